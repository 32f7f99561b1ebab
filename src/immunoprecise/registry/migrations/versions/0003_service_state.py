"""The REST service's shared working state: dashboard sessions and background jobs.

With these in the database rather than in one process's memory, several server processes
(``immunoprecise serve --workers N``) share logins and trial jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {"service_jobs": (), "dashboard_sessions": ()}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost."""


def upgrade() -> None:
    """Create the ``dashboard_sessions`` and ``service_jobs`` tables."""
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_dashboard_sessions"),
    )
    op.create_index(
        "ix_dashboard_sessions_last_seen", "dashboard_sessions", ["last_seen"], unique=False
    )
    op.create_table(
        "service_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=True),
        sa.Column("label", sa.String(length=256), nullable=True),
        sa.Column("n_per_arm", sa.Integer(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_jobs"),
    )
    op.create_index("ix_service_jobs_owner", "service_jobs", ["owner"], unique=False)
    op.create_index("ix_service_jobs_created_at", "service_jobs", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop both tables (logged-in browsers must log in again; job statuses are forgotten, their
    results stay in ``results``)."""
    op.drop_index("ix_service_jobs_created_at", table_name="service_jobs")
    op.drop_index("ix_service_jobs_owner", table_name="service_jobs")
    op.drop_table("service_jobs")
    op.drop_index("ix_dashboard_sessions_last_seen", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
