"""The exam office prepares a session: the table reader, candidate and paper
imports, accounts, rolls for the centres; the office console.

May import massicot_core, models, audit, auth, the dispatch, coordination and closing services
(the console reads their state; they never import office) and web.
"""
