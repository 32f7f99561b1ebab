"""The registry's first schema: patients, record versions, evaluations, results, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {
    "patients": (),
    "record_versions": (),
    "evaluations": (),
    "results": (),
    "audit_log": (),
}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost."""


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the five tables."""
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("pseudonym", name="uq_patients_pseudonym"),
    )
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_record_versions_patient_id_patients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_versions"),
        sa.UniqueConstraint("patient_id", "version", name="uq_record_versions_patient_id_version"),
    )
    op.create_index("ix_record_versions_patient_id", "record_versions", ["patient_id"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("software_version", sa.String(length=64), nullable=False),
        sa.Column("knowledge_base_sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["record_version_id"],
            ["record_versions.id"],
            name="fk_evaluations_record_version_id_record_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
    )
    op.create_index("ix_evaluations_record_version_id", "evaluations", ["record_version_id"])
    op.create_table(
        "results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("cohort", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_results_patient_id_patients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_results"),
    )
    op.create_index("ix_results_kind", "results", ["kind"])
    op.create_index("ix_results_patient_id", "results", ["patient_id"])
    op.create_index("ix_results_cohort", "results", ["cohort"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("patient", sa.String(length=64), nullable=True),
        sa.Column("object", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_patient_at", "audit_log", ["patient", "at"])


def downgrade() -> None:
    """Drop the five tables (and the data in them)."""
    op.drop_index("ix_audit_log_patient_at", table_name="audit_log")
    op.drop_table("audit_log")
    for name in ("cohort", "patient_id", "kind"):
        op.drop_index(f"ix_results_{name}", table_name="results")
    op.drop_table("results")
    op.drop_index("ix_evaluations_record_version_id", table_name="evaluations")
    op.drop_table("evaluations")
    op.drop_index("ix_record_versions_patient_id", table_name="record_versions")
    op.drop_table("record_versions")
    op.drop_table("patients")
