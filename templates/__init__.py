"""Printable copy models and label layouts, shared by the printer and the scanner."""
