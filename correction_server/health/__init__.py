"""The server's health, as a load balancer or a supervisor asks for it: `GET /health`.

`checks` asks each part a request needs (the database, the page store, the job queue) with a
short deadline; `web` serves the answer as JSON, 200 when every part answers, 503 naming the
parts that do not. Nothing in it is secret or names a host, a bucket or a person: the route is
public, so that nginx and the operators' probes reach it without a login.

May import correction_server.settings, pages (the store's interface), deps, and the job queue's
`queue_depth`; no area imports it.
"""
