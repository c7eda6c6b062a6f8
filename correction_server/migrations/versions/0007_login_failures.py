"""Failed logins kept in the database: the rate limit holds across server processes and restarts

Revision ID: 0007_login_failures
Revises: 0006_password_change
Create Date: 2026-11-25 05:22:17.835515
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007_login_failures"
down_revision: str | None = "0006_password_change"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"], unique=False)
        batch_op.create_index("ix_login_failure_client_ip", ["client_ip", "at"], unique=False)
        batch_op.create_index(
            "ix_login_failure_username_client_ip", ["username", "client_ip", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_username_client_ip")
        batch_op.drop_index("ix_login_failure_client_ip")
        batch_op.drop_index(batch_op.f("ix_login_failure_at"))

    op.drop_table("login_failure")
