"""Scanner profiles (SANE option names per model family) and device notes.

Data only; imports nothing of the project.
"""
