"""Patient records with append-only revisions, evaluations and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_REVISION_TABLES = {
    "finding_revisions": [],
    "episode_revisions": [
        sa.Column("episode_key", sa.String(64), nullable=True),
        sa.Column("date", sa.String(10), nullable=True),
        sa.Column("trigger", sa.String(32), nullable=True),
    ],
    "lab_result_revisions": [
        sa.Column("test", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("canonical_value", sa.Float(), nullable=False),
        sa.Column("canonical_unit", sa.String(32), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("context", sa.String(16), nullable=True),
        sa.Column("episode_key", sa.String(64), nullable=True),
    ],
    "treatment_revisions": [
        sa.Column("drug", sa.String(128), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("interval", sa.String(64), nullable=True),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("end_date", sa.String(10), nullable=True),
        sa.Column("indication", sa.Text(), nullable=True),
    ],
    "identifier_revisions": [
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
    ],
}


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("key", name="uq_patients_key"),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("recorded_at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name="fk_changes_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.UniqueConstraint("patient_id", "version", name="uq_changes_patient_version"),
    )
    op.create_index("ix_changes_patient_id", "changes", ["patient_id"])
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name="fk_records_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
    )
    op.create_index("ix_records_patient_id", "records", ["patient_id"])
    for table, columns in _REVISION_TABLES.items():
        op.create_table(
            table,
            *columns,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("record_id", sa.Integer(), nullable=False),
            sa.Column("change_id", sa.Integer(), nullable=False),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(["change_id"], ["changes.id"], name=f"fk_{table}_change_id_changes"),
            sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=f"fk_{table}_record_id_records"),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_change_id", table, ["change_id"])
        op.create_index(f"ix_{table}_record_id", table, ["record_id"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("patient_version", sa.Integer(), nullable=False),
        _time("created_at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("editions", sa.JSON(), nullable=False),
        sa.Column("case_document", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name="fk_evaluations_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
    )
    op.create_index("ix_evaluations_patient_id", "evaluations", ["patient_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_patient_key", "audit_log", ["patient_key"])


def downgrade() -> None:
    for table in ["audit_log", "evaluations", *reversed(_REVISION_TABLES), "records", "changes", "patients"]:
        op.drop_table(table)
