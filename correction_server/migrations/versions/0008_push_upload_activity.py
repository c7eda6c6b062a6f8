"""Pushes in progress: the time of their last request, so abandoned ones can be purged

Revision ID: 0008_push_upload_activity
Revises: 0007_login_failures
Create Date: 2026-11-25 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_push_upload_activity"
down_revision: str | None = "0007_login_failures"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("push_upload", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True))
    # A push already under way has not been heard of since it started, as far as anyone knows.
    op.execute("UPDATE push_upload SET last_activity_at = started_at")
    with op.batch_alter_table("push_upload", schema=None) as batch_op:
        batch_op.alter_column(
            "last_activity_at",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        )
        batch_op.create_index(
            batch_op.f("ix_push_upload_last_activity_at"), ["last_activity_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("push_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_upload_last_activity_at"))
        batch_op.drop_column("last_activity_at")
