"""The office closes a paper: reconciliation, exports, jury, holds, consultation PDFs,
payment counts, retention; its pages and commands.

May import massicot_core, models, audit, pages, intake, marking and coordination services.
"""
