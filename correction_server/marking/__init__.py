"""Correctors mark: rules of a mark, saving with optimistic concurrency, annotations,
comments, the barème lock; the marking pages.

May import massicot_core, models, audit, pages and web.
"""
