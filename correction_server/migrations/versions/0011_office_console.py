"""The office console: papers' scan deadline, candidates' room and table, centres' contact,
accounts' last login, the
office's settings (the session's time zone) and its background actions

Revision ID: 0011_office_console
Revises: 0010_page_written_booklet
Create Date: 2026-12-02 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011_office_console"
down_revision: str | None = "0010_page_written_booklet"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scan_deadline", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("room", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("table_number", sa.String(length=12), nullable=True))
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("centre", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=200), nullable=False, server_default=""))
    op.create_table(
        "office_setting",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_office_setting")),
    )
    op.create_table(
        "office_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        # Only one action of a kind on a target may run at a time: a second click finds it.
        sa.Column("running_key", sa.String(length=260), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["app_user.id"], name=op.f("fk_office_action_by_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_action")),
        sa.UniqueConstraint("running_key", name=op.f("uq_office_action_running_key")),
    )


def downgrade() -> None:
    op.drop_table("office_action")
    op.drop_table("office_setting")
    with op.batch_alter_table("centre", schema=None) as batch_op:
        batch_op.drop_column("contact")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("table_number")
        batch_op.drop_column("room")
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.drop_column("scan_deadline")
