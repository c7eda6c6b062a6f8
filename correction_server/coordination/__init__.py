"""Coordinators supervise a paper: progress, harmonisation statistics and plots,
reassignment, second reading, the standardisation meeting; their pages.

May import massicot_core, models, audit, pages, marking services, dispatch services and web.
"""
