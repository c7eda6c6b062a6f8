"""The office closes a paper: reconciliation, the jury export, jury marks, holds and missing
copies, publication and the consultation PDF, payment counts, retention; its pages (web.py over
views.py), its commands (cli.py), its words (words.py).

May import massicot_core, models, db, audit, pages, intake, marking and coordination services;
web.py also the server's web and deps.
"""
