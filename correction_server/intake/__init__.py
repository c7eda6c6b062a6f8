"""Sealed lots arriving from scan stations: the push API, ingest, abandoned pushes.

May import massicot_core (the lot contract), models, audit, auth (station tokens) and pages.
"""
