"""Marking rules: subject and corrigé, corrector flags, rescan requests, page versions,
re-pushed lots, several établissements per corrector, explicit incompatibilities

Revision ID: 0013_marking_rules
Revises: 0012_jury_rules
Create Date: 2026-12-02 07:56:03.162891
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013_marking_rules"
down_revision: str | None = "0012_jury_rules"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "corrector_establishment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_corrector_establishment_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_corrector_establishment_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrector_establishment")),
        sa.UniqueConstraint("user_id", "establishment_id", name=op.f("uq_corrector_establishment_user_id")),
    )
    with op.batch_alter_table("corrector_establishment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corrector_establishment_user_id"), ["user_id"], unique=False)

    op.create_table(
        "incompatibility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(candidate_id IS NULL) <> (establishment_id IS NULL)",
            name=op.f("ck_incompatibility_one_candidate_or_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_incompatibility_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["corrector_id"], ["app_user.id"], name=op.f("fk_incompatibility_corrector_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_incompatibility_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incompatibility")),
    )
    with op.batch_alter_table("incompatibility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incompatibility_corrector_id"), ["corrector_id"], unique=False)

    op.create_table(
        "paper_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("subject", "model_answer", name="documentkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"], name=op.f("fk_paper_document_paper_id_paper")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_document")),
        sa.UniqueConstraint("paper_id", "kind", name=op.f("uq_paper_document_paper_id")),
    )
    with op.batch_alter_table("paper_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_document_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "scan_lot_repush",
        sa.Column("seal_sha256", sa.String(length=64), nullable=False),
        sa.Column("scan_lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("pages_replaced", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_lot_id"], ["scan_lot.id"], name=op.f("fk_scan_lot_repush_scan_lot_id_scan_lot")
        ),
        sa.PrimaryKeyConstraint("seal_sha256", name=op.f("pk_scan_lot_repush")),
    )
    with op.batch_alter_table("scan_lot_repush", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_lot_repush_scan_lot_id"), ["scan_lot_id"], unique=False)

    op.create_table(
        "copy_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "identifying_sign",
                "unreadable_page",
                "foreign_page",
                name="flagkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "raised_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("open", "rescan", "decided", name="flagstate", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "mask",
                "note",
                "move",
                "rescan",
                "rescanned",
                name="flagdecision",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_copy_flag_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["app_user.id"], name=op.f("fk_copy_flag_decided_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["app_user.id"], name=op.f("fk_copy_flag_raised_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_flag")),
    )
    with op.batch_alter_table("copy_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_copy_flag_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_copy_flag_state"), ["state"], unique=False)

    op.create_table(
        "page_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("skew_degrees", sa.Float(), nullable=False),
        sa.Column("blank", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column(
            "replaced_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["copy_flag.id"], name=op.f("fk_page_version_flag_id_copy_flag")
        ),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_page_version_page_id_page")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_version")),
    )
    with op.batch_alter_table("page_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_version_image_sha256"), ["image_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_version_page_id"), ["page_id"], unique=False)

    op.create_table(
        "rescan_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.String(length=16), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("scan_lot_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state", sa.Enum("open", "done", name="rescanstate", native_enum=False, length=24), nullable=False
        ),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_seal", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_rescan_request_centre_id_centre")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copy.id"], name=op.f("fk_rescan_request_copy_id_copy")),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["copy_flag.id"], name=op.f("fk_rescan_request_flag_id_copy_flag")
        ),
        sa.ForeignKeyConstraint(
            ["scan_lot_id"], ["scan_lot.id"], name=op.f("fk_rescan_request_scan_lot_id_scan_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescan_request")),
    )
    with op.batch_alter_table("rescan_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rescan_request_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rescan_request_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rescan_request_flag_id"), ["flag_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rescan_request_scan_lot_id"), ["scan_lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rescan_request_state"), ["state"], unique=False)

    with op.batch_alter_table("copy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("push_upload", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_scan_lot_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_push_upload_replaces_scan_lot_id_scan_lot"),
            "scan_lot",
            ["replaces_scan_lot_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("push_upload", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_push_upload_replaces_scan_lot_id_scan_lot"), type_="foreignkey"
        )
        batch_op.drop_column("replaces_scan_lot_id")

    with op.batch_alter_table("copy", schema=None) as batch_op:
        batch_op.drop_column("flagged")

    with op.batch_alter_table("rescan_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rescan_request_state"))
        batch_op.drop_index(batch_op.f("ix_rescan_request_scan_lot_id"))
        batch_op.drop_index(batch_op.f("ix_rescan_request_flag_id"))
        batch_op.drop_index(batch_op.f("ix_rescan_request_copy_id"))
        batch_op.drop_index(batch_op.f("ix_rescan_request_centre_id"))

    op.drop_table("rescan_request")
    with op.batch_alter_table("page_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_version_page_id"))
        batch_op.drop_index(batch_op.f("ix_page_version_image_sha256"))

    op.drop_table("page_version")
    with op.batch_alter_table("copy_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copy_flag_state"))
        batch_op.drop_index(batch_op.f("ix_copy_flag_copy_id"))

    op.drop_table("copy_flag")
    with op.batch_alter_table("scan_lot_repush", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_lot_repush_scan_lot_id"))

    op.drop_table("scan_lot_repush")
    with op.batch_alter_table("paper_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_document_paper_id"))

    op.drop_table("paper_document")
    with op.batch_alter_table("incompatibility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incompatibility_corrector_id"))

    op.drop_table("incompatibility")
    with op.batch_alter_table("corrector_establishment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrector_establishment_user_id"))

    op.drop_table("corrector_establishment")
