"""Service jobs that another server process can take over: the job's request, who runs it and
how many times it was started.

A trial whose server process stops (a crash, a restart) is started again by another process
from its stored request, rather than reported failed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {"service_jobs": ("request", "starts", "runner")}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost."""


def upgrade() -> None:
    """Add ``request``, ``starts`` and ``runner`` to ``service_jobs`` (existing jobs: no
    request, so they are not taken over)."""
    with op.batch_alter_table("service_jobs") as batch:
        batch.add_column(sa.Column("request", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("starts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("runner", sa.String(length=128), nullable=True))


def downgrade() -> None:
    """Drop the three columns (jobs then can no longer be taken over)."""
    with op.batch_alter_table("service_jobs") as batch:
        batch.drop_column("runner")
        batch.drop_column("starts")
        batch.drop_column("request")
