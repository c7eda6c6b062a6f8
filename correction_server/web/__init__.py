"""What every browser page shares: rendering (Jinja2, language, CSRF in the context), the words
of the frame and the home pages, and the error answers (`errors.install`).

May import massicot_core, correction_server.models, auth (sessions, access), deps and the read
models the home pages show (dispatch.lots); the areas' pages import it, never the other way round.
"""
