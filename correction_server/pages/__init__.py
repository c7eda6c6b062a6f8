"""Page images: the content-addressed store, display images and their rendering jobs.

May import massicot_core and correction_server.models.
"""
