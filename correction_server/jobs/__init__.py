"""The server's background jobs: display images after a lot is committed, the office's long
actions (imports, dispatch, purges, the audit check).

Two runners, one interface (`runner.Jobs`): on one host (the embedded default, SQLite or
PostgreSQL) the jobs run inside the server process, as they always did; with
`MASSICOT_JOBS=queue` (PostgreSQL only) they are queued in the database by procrastinate and
run by `massicot worker`, on any host, each job once however many workers run, retried with
backoff when it fails, and still there after a restart.

May import: settings, db, pages (rendering, store), office (actions, console_work). Only the
health check imports it (`queue_depth`): the application hands its runner to the routes through
`deps.ServerParts`.
"""

from correction_server.jobs.depth import queue_depth

__all__ = ["queue_depth"]
