"""The room report (procès-verbal de salle) sealed into a lot

Revision ID: 0009_room_report
Revises: 0008_push_upload_activity
Create Date: 2026-12-02 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_room_report"
down_revision: str | None = "0008_push_upload_activity"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "room_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_lot_id", sa.Integer(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_lot_id"], ["scan_lot.id"], name=op.f("fk_room_report_scan_lot_id_scan_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_report")),
        sa.UniqueConstraint("scan_lot_id", name=op.f("uq_room_report_scan_lot_id")),
    )


def downgrade() -> None:
    op.drop_table("room_report")
