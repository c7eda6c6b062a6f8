"""Dispatch: planning correction lots (never a corrector's own establishment),
lot summaries, the slip (CSV and PDF); the lots pages.

May import massicot_core, models, audit and web.
"""
