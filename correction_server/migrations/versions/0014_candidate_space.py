"""The candidate's space: candidate accounts, activation codes of access letters, review requests

Revision ID: 0014_candidate_space
Revises: 0013_marking_rules
Create Date: 2026-12-02 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014_candidate_space"
down_revision: str | None = "0013_marking_rules"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "candidate_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_candidate_account_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_candidate_account_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_candidate_account")),
        sa.UniqueConstraint("candidate_id", name=op.f("uq_candidate_account_candidate_id")),
    )
    op.create_table(
        "activation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_activation_code_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_code")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_activation_code_code_sha256")),
    )
    with op.batch_alter_table("activation_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activation_code_candidate_id"), ["candidate_id"], unique=False)
    op.create_table(
        "review_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "answered", name="requeststatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("corrected_mark_20", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_by_name", sa.String(length=200), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_review_request_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_review_request_paper_id_paper")),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_review_request_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["app_user.id"], name=op.f("fk_review_request_answered_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_request")),
    )
    with op.batch_alter_table("review_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_request_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_request_paper_id"), ["paper_id"], unique=False)


def downgrade() -> None:
    op.drop_table("review_request")
    op.drop_table("activation_code")
    op.drop_table("candidate_account")
