"""Pushes in progress: the announced manifest of a lot until its commit

Revision ID: 0002_push_upload
Revises: 0001_initial
Create Date: 2026-11-25 01:49:57.359505
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_push_upload"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "push_upload",
        sa.Column("seal_sha256", sa.String(length=64), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("identity_json", sa.Text(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_push_upload_centre_id_centre")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_push_upload_paper_id_paper")),
        sa.PrimaryKeyConstraint("seal_sha256", name=op.f("pk_push_upload")),
    )


def downgrade() -> None:
    op.drop_table("push_upload")
