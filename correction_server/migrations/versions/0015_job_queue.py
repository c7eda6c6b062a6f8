"""The job queue's tables (procrastinate's own schema), on PostgreSQL only

Revision ID: 0015_job_queue
Revises: 0014_candidate_space
Create Date: 2026-12-03 07:00:00

SQLite (the embedded default) runs its jobs inside the server and has no queue. The schema is
procrastinate's, as its pinned version ships it (procrastinate==3.10.0): a new version of the
library that changes it comes with a revision of its own.
"""

from __future__ import annotations

from alembic import op

revision: str = "0015_job_queue"
down_revision: str | None = "0014_candidate_space"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
TYPES = ("procrastinate_job_event_type", "procrastinate_job_status", "procrastinate_job_to_defer_v1")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # Through the driver itself: the schema's text holds '%' and ':' that SQLAlchemy and
    # psycopg would otherwise read as parameters. Same connection, same transaction.
    bind.connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN "
        "FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate\\_%' LOOP "
        "EXECUTE 'DROP FUNCTION ' || f || ' CASCADE'; END LOOP; END $$"
    )
    op.execute(f"DROP TYPE IF EXISTS {', '.join(TYPES)} CASCADE")
