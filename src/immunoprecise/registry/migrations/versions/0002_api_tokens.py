"""Bearer tokens of the REST service: name, role, SHA-256 of the token, created, revoked.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
dropped_by_downgrade: dict[str, tuple[str, ...]] = {"api_tokens": ()}
"""What :func:`downgrade` drops: each table, with the columns dropped from it (none: the whole
table); ``immunoprecise db downgrade`` counts their rows and asks before data is lost."""


def upgrade() -> None:
    """Create the ``api_tokens`` table."""
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )


def downgrade() -> None:
    """Drop the ``api_tokens`` table (every token stops working)."""
    op.drop_table("api_tokens")
