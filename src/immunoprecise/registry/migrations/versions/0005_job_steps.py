"""The finished steps of unfinished service jobs, so that a job taken over by another server
process continues from its last finished step (a trial's chunk) instead of starting again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {"service_job_steps": ()}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost."""


def upgrade() -> None:
    """Create ``service_job_steps`` (deleted with its job)."""
    op.create_table(
        "service_job_steps",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["service_jobs.id"],
            name="fk_service_job_steps_job_id_service_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "step", name="pk_service_job_steps"),
    )


def downgrade() -> None:
    """Drop ``service_job_steps`` (a job taken over then starts again from its beginning)."""
    op.drop_table("service_job_steps")
