"""The candidate's own space (DOMAIN rules 11, 18, 25): access letters and activation, his
results and his marked copy during the consultation year, and his review requests.

- letters.py: activation codes (random, single use, expiring, kept hashed) and the letters PDF;
- activation.py: activating an account, the candidate's login (its own rate-limit count);
- results.py: what a candidate may see of a paper, and the ONE function saying his result;
- copies.py: his copy as the corrector saw it (pages, annotation layer, marks), opaque copy tokens;
- review_requests.py: review requests for a material error, answered by the office;
- web.py (candidate pages), office_web.py (office pages), cli.py, words.py.

May import massicot_core, correction_server.models, audit, auth (sessions, passwords, login_limit),
closing (publication, holds, jury, consultation), marking (reading, rules), pages and web.
"""
