"""The correction server: receives sealed lots, dispatches, marks, coordinates and closes.

One package per area (intake, pages, office, dispatch, marking, coordination, closing, auth,
audit) over the foundation (app, deps, settings, db, migrate, i18n, cli, cli_support, models).
May import massicot_core; never the station (scanner) nor the copy model's printing.
"""
