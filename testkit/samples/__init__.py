"""The sample-scan generator: a room's booklets printed, filled in and scanned as on a real
evening, with the truth of what was done to each page (session, the entry point; defects,
truth, evening, artist, writers, its parts). Imports the product's printing and copy model."""
