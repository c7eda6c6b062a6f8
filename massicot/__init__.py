"""Massicot: dematerialised correction of written exams."""

__version__ = "0.1.0"
