"""Coordination and closing: reassignments, second readings, jury decisions, holds, missing copies,
results publication, purge records

Revision ID: 0005_closing
Revises: 0004_audit
Create Date: 2026-11-25 02:09:23.644812
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_closing"
down_revision: str | None = "0004_audit"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:

    op.create_table(
        "hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_by_name", sa.String(length=200), nullable=False),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_hold_by_id_app_user")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_hold_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["app_user.id"], name=op.f("fk_hold_released_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold")),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_candidate_id"), ["candidate_id"], unique=False)

    op.create_table(
        "missing_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["app_user.id"], name=op.f("fk_missing_declaration_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_missing_declaration_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_missing_declaration_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missing_declaration")),
        sa.UniqueConstraint("candidate_id", "paper_id", name=op.f("uq_missing_declaration_candidate_id")),
    )
    with op.batch_alter_table("missing_declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missing_declaration_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "results_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_results_publication_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results_publication")),
        sa.UniqueConstraint("paper_id", name=op.f("uq_results_publication_paper_id")),
    )
    op.create_table(
        "jury_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("original", sa.String(length=8), nullable=False),
        sa.Column("mark_20", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_jury_decision_by_id_app_user")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_jury_decision_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_jury_decision_copy_id_copy")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_jury_decision_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_decision")),
    )
    with op.batch_alter_table("jury_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jury_decision_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jury_decision_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jury_decision_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "purge_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("images_deleted", sa.Integer(), nullable=False),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_purge_record_copy_id_copy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_record")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_purge_record_copy_id")),
    )
    op.create_table(
        "reassignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("from_lot_id", sa.Integer(), nullable=False),
        sa.Column("to_lot_id", sa.Integer(), nullable=False),
        sa.Column("from_corrector_id", sa.Integer(), nullable=False),
        sa.Column("to_corrector_id", sa.Integer(), nullable=False),
        sa.Column("state_when_moved", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_reassignment_by_id_app_user")),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_reassignment_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["from_corrector_id"], ["app_user.id"], name=op.f("fk_reassignment_from_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["from_lot_id"], ["correction_lot.id"], name=op.f("fk_reassignment_from_lot_id_correction_lot")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_reassignment_paper_id_paper")),
        sa.ForeignKeyConstraint(
            ["to_corrector_id"], ["app_user.id"], name=op.f("fk_reassignment_to_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["to_lot_id"], ["correction_lot.id"], name=op.f("fk_reassignment_to_lot_id_correction_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reassignment")),
    )
    with op.batch_alter_table("reassignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reassignment_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reassignment_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "second_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("first_corrector_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("requested", "done", "decided", name="readingstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("appreciation", sa.Text(), nullable=False),
        sa.Column("mark_20", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_mark_20", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column(
            "choice",
            sa.Enum("first", "second", "other", name="readingchoice", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("decided_mark_20", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_second_reading_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["app_user.id"], name=op.f("fk_second_reading_decided_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["first_corrector_id"],
            ["app_user.id"],
            name=op.f("fk_second_reading_first_corrector_id_app_user"),
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_second_reading_paper_id_paper")),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["app_user.id"], name=op.f("fk_second_reading_reader_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["app_user.id"], name=op.f("fk_second_reading_requested_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_reading")),
    )
    with op.batch_alter_table("second_reading", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_second_reading_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_second_reading_paper_id"), ["paper_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_second_reading_reader_id"), ["reader_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("second_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_second_reading_reader_id"))
        batch_op.drop_index(batch_op.f("ix_second_reading_paper_id"))
        batch_op.drop_index(batch_op.f("ix_second_reading_copy_id"))

    op.drop_table("second_reading")
    with op.batch_alter_table("reassignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reassignment_paper_id"))
        batch_op.drop_index(batch_op.f("ix_reassignment_copy_id"))

    op.drop_table("reassignment")
    op.drop_table("purge_record")
    with op.batch_alter_table("jury_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_decision_paper_id"))
        batch_op.drop_index(batch_op.f("ix_jury_decision_copy_id"))
        batch_op.drop_index(batch_op.f("ix_jury_decision_candidate_id"))

    op.drop_table("jury_decision")
    op.drop_table("results_publication")
    with op.batch_alter_table("missing_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missing_declaration_paper_id"))

    op.drop_table("missing_declaration")
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_candidate_id"))

    op.drop_table("hold")
