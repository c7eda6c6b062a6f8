"""Indexes a national paper needs: copies, roll, candidates and scan lots by paper and centre

Revision ID: 0016_national_indexes
Revises: 0015_job_queue
Create Date: 2026-12-03 09:00:00

PostgreSQL does not index a foreign key by itself. At 10,000 copies a sequential scan is a few
milliseconds; at 500,000 copies (bench/national.py) the office's and the coordinator's pages
read every copy, roll line and candidate of the database on every refresh.
"""

from __future__ import annotations

from alembic import op

revision: str = "0016_national_indexes"
down_revision: str | None = "0015_job_queue"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES = (
    ("copy", "paper_id"),
    ("copy", "centre_id"),
    ("copy", "scan_lot_id"),
    ("candidate", "centre_id"),
    ("roll_entry", "paper_id"),
    ("scan_lot", "paper_id"),
    ("corrector_paper", "paper_id"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
