"""The append-only, hash-chained audit log, and who acted (`Actor`).

May import massicot_core and correction_server.models.
"""
