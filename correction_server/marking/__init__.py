"""Correctors mark: the rules of a mark (rules), a copy's stored marking (reading), saving it
with optimistic concurrency (saving), annotations, comments, the barème lock (scheme); what the
pages show (views) and the pages (web).

May import massicot_core, models, audit, pages, auth (access rules, for the pages) and web.
"""
