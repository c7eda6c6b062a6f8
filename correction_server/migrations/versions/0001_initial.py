"""Initial schema: session, papers and barème, centres, establishments, candidates, roll,
users, scan lots, copies, pages, identity links, markings and the comment bank.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "centre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uai", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre")),
        sa.UniqueConstraint("uai", name=op.f("uq_centre_uai")),
    )
    op.create_table(
        "establishment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uai", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_establishment")),
        sa.UniqueConstraint("uai", name=op.f("uq_establishment_uai")),
    )
    op.create_table(
        "exam_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_session")),
        sa.UniqueConstraint("name", name=op.f("uq_exam_session_name")),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "office", "centre", "corrector", "coordinator", name="role", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=200), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_app_user_centre_id_centre")),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_app_user_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=16), nullable=False),
        sa.Column("surname", sa.String(length=120), nullable=False),
        sa.Column("given_names", sa.String(length=120), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_candidate_centre_id_centre")),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_candidate_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate")),
        sa.UniqueConstraint("registration", name=op.f("uq_candidate_registration")),
    )
    op.create_table(
        "paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sitting_date", sa.Date(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("max_mark", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("pages_per_copy", sa.Integer(), nullable=False),
        sa.Column("window_opens", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_closes", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheme_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("max_mark > 0", name=op.f("ck_paper_max_mark_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_paper_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper")),
        sa.UniqueConstraint("session_id", "code", name=op.f("uq_paper_session_id")),
    )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"], name=op.f("fk_comment_owner_id_app_user")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_comment_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comment_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "corrector_paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_corrector_paper_paper_id_paper")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_corrector_paper_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrector_paper")),
        sa.UniqueConstraint("user_id", "paper_id", name=op.f("uq_corrector_paper_user_id")),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("step", sa.Numeric(precision=3, scale=1), nullable=False),
        sa.CheckConstraint(
            "max_points * 2 = ROUND(max_points * 2)", name=op.f("ck_question_max_points_half_points")
        ),
        sa.CheckConstraint("max_points > 0", name=op.f("ck_question_max_points_positive")),
        sa.CheckConstraint("step IN (0.5, 1)", name=op.f("ck_question_step_half_or_whole")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_question_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
        sa.UniqueConstraint("paper_id", "position", name=op.f("uq_question_paper_id")),
    )
    op.create_table(
        "roll_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column(
            "attendance",
            sa.Enum("registered", "present", "absent", name="attendance", native_enum=False, length=16),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_roll_entry_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_roll_entry_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_entry")),
        sa.UniqueConstraint("candidate_id", "paper_id", name=op.f("uq_roll_entry_candidate_id")),
    )
    op.create_table(
        "scan_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seal_sha256", sa.String(length=64), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_scan_lot_centre_id_centre")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_scan_lot_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_lot")),
        sa.UniqueConstraint("seal_sha256", name=op.f("uq_scan_lot_seal_sha256")),
    )
    op.create_table(
        "copy",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("scan_lot_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("ok", "blank", "absent", "incomplete", name="copystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_copy_centre_id_centre")),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_copy_paper_id_paper")),
        sa.ForeignKeyConstraint(["scan_lot_id"], ["scan_lot.id"], name=op.f("fk_copy_scan_lot_id_scan_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy")),
    )
    op.create_table(
        "identity_link",
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_identity_link_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_identity_link_copy_id_copy")),
        sa.PrimaryKeyConstraint("copy_id", name=op.f("pk_identity_link")),
    )
    with op.batch_alter_table("identity_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_link_candidate_id"), ["candidate_id"], unique=False)

    op.create_table(
        "marking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "marked", name="markingstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "special", sa.Enum("AB", "00", name="specialmark", native_enum=False, length=16), nullable=True
        ),
        sa.Column("appreciation", sa.Text(), nullable=False),
        sa.Column("total", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("mark_20", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_marking_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_marking_corrector_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marking")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_marking_copy_id")),
    )
    with op.batch_alter_table("marking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_marking_corrector_id"), ["corrector_id"], unique=False)

    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("skew_degrees", sa.Float(), nullable=False),
        sa.Column("blank", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_page_copy_id_copy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint("copy_id", "position", name=op.f("uq_page_copy_id")),
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_image_sha256"), ["image_sha256"], unique=False)

    op.create_table(
        "annotation_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marking_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["marking_id"],
            ["marking.id"],
            name=op.f("fk_annotation_layer_marking_id_marking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_annotation_layer_page_id_page")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_layer")),
        sa.UniqueConstraint("marking_id", "page_id", name=op.f("uq_annotation_layer_marking_id")),
    )
    op.create_table(
        "comment_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marking_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("item_key", sa.String(length=48), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comment.id"], name=op.f("fk_comment_use_comment_id_comment")
        ),
        sa.ForeignKeyConstraint(
            ["marking_id"], ["marking.id"], name=op.f("fk_comment_use_marking_id_marking"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_comment_use_page_id_page")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_use")),
        sa.UniqueConstraint("marking_id", "item_key", name=op.f("uq_comment_use_marking_id")),
    )
    with op.batch_alter_table("comment_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_use_comment_id"), ["comment_id"], unique=False)

    op.create_table(
        "question_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marking_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["marking_id"],
            ["marking.id"],
            name=op.f("fk_question_mark_marking_id_marking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_question_mark_question_id_question")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_mark")),
        sa.UniqueConstraint("marking_id", "question_id", name=op.f("uq_question_mark_marking_id")),
    )


def downgrade() -> None:
    op.drop_table("question_mark")
    with op.batch_alter_table("comment_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_use_comment_id"))

    op.drop_table("comment_use")
    op.drop_table("annotation_layer")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_image_sha256"))

    op.drop_table("page")
    with op.batch_alter_table("marking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marking_corrector_id"))

    op.drop_table("marking")
    with op.batch_alter_table("identity_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_link_candidate_id"))

    op.drop_table("identity_link")
    op.drop_table("copy")
    op.drop_table("scan_lot")
    op.drop_table("roll_entry")
    op.drop_table("question")
    op.drop_table("corrector_paper")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_paper_id"))
        batch_op.drop_index(batch_op.f("ix_comment_owner_id"))

    op.drop_table("comment")
    op.drop_table("paper")
    op.drop_table("candidate")
    op.drop_table("app_user")
    op.drop_table("exam_session")
    op.drop_table("establishment")
    op.drop_table("centre")
