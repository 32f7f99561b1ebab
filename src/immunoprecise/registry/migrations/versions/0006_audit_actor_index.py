"""An index on the audit log's actor, so that reading one person's entries (``GET /audit?actor=``,
``immunoprecise db audit --actor``) looks them up instead of scanning the whole log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost. Dropping
an index loses no data."""


def upgrade() -> None:
    """Create ``ix_audit_log_actor``."""
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])


def downgrade() -> None:
    """Drop ``ix_audit_log_actor`` (the audit log itself is kept)."""
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
