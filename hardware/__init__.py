"""Scanner profiles (SANE option names per model family) and device notes."""
