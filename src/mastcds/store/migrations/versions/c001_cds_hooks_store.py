"""CDS Hooks service state shared by every worker: JWT replay entries, card links, feedback (mastcds.store.cds).

Revision ID: c001
Revises: w001
Create Date: 2026-11-27

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c001"
down_revision = "w001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_replay",
        sa.Column("key", sa.String(74), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cds_replay"),
    )
    op.create_table(
        "cds_links",
        sa.Column("key", sa.String(26), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("ehr_user", sa.String(256), nullable=True),
        sa.Column("fhir_patient", sa.String(64), nullable=False),
        sa.Column("case_document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cds_links"),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("card", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cds_feedback"),
    )
    op.create_index("ix_cds_feedback_received_at", "cds_feedback", ["received_at"])


def downgrade() -> None:
    for table in ("cds_feedback", "cds_links", "cds_replay"):
        op.drop_table(table)
