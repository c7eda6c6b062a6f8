"""The correction server: ingest sealed lots, dispatch, mark, coordinate, close."""
