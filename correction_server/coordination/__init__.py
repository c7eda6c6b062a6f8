"""Coordinators supervise a paper: progress, harmonisation (statistics, plots, the flag),
reassignment, second reading, the standardisation meeting; what their pages show (views) and
the pages (web, standardisation_web).

May import massicot_core, models, audit, auth (access rules), pages, marking services, dispatch
services and web.
"""
