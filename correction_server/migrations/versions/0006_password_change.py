"""Password change: an account whose password the office reset must choose a new one

Revision ID: 0006_password_change
Revises: 0005_closing
Create Date: 2026-11-25 04:34:19.032404
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_password_change"
down_revision: str | None = "0005_closing"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
