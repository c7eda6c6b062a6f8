"""Correction lots (dispatch) and browser login sessions

Revision ID: 0003_correction_lots_logins
Revises: 0002_push_upload
Create Date: 2026-11-25 01:51:12.358998
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_correction_lots_logins"
down_revision: str | None = "0002_push_upload"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "correction_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_correction_lot_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_correction_lot_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_lot")),
        sa.UniqueConstraint("paper_id", "number", name=op.f("uq_correction_lot_paper_id")),
    )
    with op.batch_alter_table("correction_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_lot_corrector_id"), ["corrector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_lot_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "login_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_login_session_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lot_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("assigned", "withdrawn", name="assignmentstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_lot_copy_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["correction_lot.id"], name=op.f("fk_lot_copy_lot_id_correction_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_copy")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_lot_copy_copy_id")),
        sa.UniqueConstraint("lot_id", "position", name=op.f("uq_lot_copy_lot_id")),
    )
    with op.batch_alter_table("lot_copy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_copy_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lot_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_copy_lot_id"))

    op.drop_table("lot_copy")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))

    op.drop_table("login_session")
    with op.batch_alter_table("correction_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_lot_paper_id"))
        batch_op.drop_index(batch_op.f("ix_correction_lot_corrector_id"))

    op.drop_table("correction_lot")
