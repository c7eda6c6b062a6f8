"""Jury rules: fraud reports and voided papers, justified absences, the harmonisation meeting and
its rules, jury meetings and material errors, payment by level and confirmation of the work

Revision ID: 0012_jury_rules
Revises: 0011_office_console
Create Date: 2026-12-02 07:55:53.760905
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012_jury_rules"
down_revision: str | None = "0011_office_console"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "session_pay_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.Column("second_reading_weight", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_session_pay_rates_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_pay_rates")),
        sa.UniqueConstraint("session_id", name=op.f("uq_session_pay_rates_session_id")),
    )
    op.create_table(
        "absence_justification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["app_user.id"], name=op.f("fk_absence_justification_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_absence_justification_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_absence_justification_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence_justification")),
        sa.UniqueConstraint("candidate_id", "paper_id", name=op.f("uq_absence_justification_candidate_id")),
    )
    with op.batch_alter_table("absence_justification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_absence_justification_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "harmonisation_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["app_user.id"], name=op.f("fk_harmonisation_meeting_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_harmonisation_meeting_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harmonisation_meeting")),
    )
    with op.batch_alter_table("harmonisation_meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harmonisation_meeting_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "jury_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_jury_meeting_by_id_app_user")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_jury_meeting_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_meeting")),
    )
    with op.batch_alter_table("jury_meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jury_meeting_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "paper_pay_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_paper_pay_level_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_pay_level")),
        sa.UniqueConstraint("paper_id", name=op.f("uq_paper_pay_level_paper_id")),
    )
    op.create_table(
        "work_confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.String(length=24), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_work_confirmation_by_id_app_user")),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_work_confirmation_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_work_confirmation_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_confirmation")),
        sa.UniqueConstraint("paper_id", "corrector_id", name=op.f("uq_work_confirmation_paper_id")),
    )
    with op.batch_alter_table("work_confirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_confirmation_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "fraud_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=True),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seized", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["hold_id"], ["hold.id"], name=op.f("fk_fraud_report_hold_id_hold")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_fraud_report_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_report")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_fraud_report_hold_id")),
    )
    with op.batch_alter_table("fraud_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraud_report_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "paper_void",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["app_user.id"], name=op.f("fk_paper_void_by_id_app_user")),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_paper_void_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["hold.id"], name=op.f("fk_paper_void_hold_id_hold")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_paper_void_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_void")),
        sa.UniqueConstraint("candidate_id", "paper_id", name=op.f("uq_paper_void_candidate_id")),
    )
    with op.batch_alter_table("paper_void", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_void_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "harmonisation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=True),
        sa.Column("corrector_id", sa.Integer(), nullable=True),
        sa.Column("delta", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("set_mark", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["app_user.id"], name=op.f("fk_harmonisation_rule_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_harmonisation_rule_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_harmonisation_rule_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["harmonisation_meeting.id"],
            name=op.f("fk_harmonisation_rule_meeting_id_harmonisation_meeting"),
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_harmonisation_rule_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harmonisation_rule")),
    )
    with op.batch_alter_table("harmonisation_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harmonisation_rule_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harmonisation_rule_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "harmonised_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("after", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_harmonised_mark_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_harmonised_mark_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_harmonised_mark_paper_id_paper")),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["harmonisation_rule.id"], name=op.f("fk_harmonised_mark_rule_id_harmonisation_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harmonised_mark")),
    )
    with op.batch_alter_table("harmonised_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harmonised_mark_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harmonised_mark_corrector_id"), ["corrector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harmonised_mark_paper_id"), ["paper_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harmonised_mark_rule_id"), ["rule_id"], unique=False)

    with op.batch_alter_table("jury_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("material_error", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("material_error_by", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("jury_decision", schema=None) as batch_op:
        batch_op.drop_column("material_error_by")
        batch_op.drop_column("material_error")

    with op.batch_alter_table("harmonised_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harmonised_mark_rule_id"))
        batch_op.drop_index(batch_op.f("ix_harmonised_mark_paper_id"))
        batch_op.drop_index(batch_op.f("ix_harmonised_mark_corrector_id"))
        batch_op.drop_index(batch_op.f("ix_harmonised_mark_copy_id"))

    op.drop_table("harmonised_mark")
    with op.batch_alter_table("harmonisation_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harmonisation_rule_paper_id"))
        batch_op.drop_index(batch_op.f("ix_harmonisation_rule_meeting_id"))

    op.drop_table("harmonisation_rule")
    with op.batch_alter_table("paper_void", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_void_paper_id"))

    op.drop_table("paper_void")
    with op.batch_alter_table("fraud_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_report_paper_id"))

    op.drop_table("fraud_report")
    with op.batch_alter_table("work_confirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_confirmation_paper_id"))

    op.drop_table("work_confirmation")
    op.drop_table("paper_pay_level")
    with op.batch_alter_table("jury_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_meeting_paper_id"))

    op.drop_table("jury_meeting")
    with op.batch_alter_table("harmonisation_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harmonisation_meeting_paper_id"))

    op.drop_table("harmonisation_meeting")
    with op.batch_alter_table("absence_justification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absence_justification_paper_id"))

    op.drop_table("absence_justification")
    op.drop_table("session_pay_rates")
