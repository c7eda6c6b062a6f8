"""Pages: whether anything is written on them, and the printed booklet they came from

Revision ID: 0010_page_written_booklet
Revises: 0009_room_report
Create Date: 2026-12-02 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_page_written_booklet"
down_revision: str | None = "0009_room_report"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("booklet", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("booklet")
        batch_op.drop_column("written")
