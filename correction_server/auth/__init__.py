"""Who the browser or station is and what it may reach: passwords, login sessions, CSRF,
login rate limit, station tokens, access rules; the login, account and password pages.

May import massicot_core, correction_server.models, audit and web (rendering).
"""
