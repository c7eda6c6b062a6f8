"""Backup and restore of a whole server: a consistent database dump and the page images added
since the last backup, into a folder; and back, only into an empty database and an empty store.

May import massicot_core, correction_server.models, audit, pages (the object store), db, migrate
and settings. Nothing imports it but its command module.
"""
