"""The exam office prepares a session: the table reader, candidate and paper
imports, accounts, rolls for the centres; the office console.

May import massicot_core, models, audit, auth, dispatch services and web.
"""
