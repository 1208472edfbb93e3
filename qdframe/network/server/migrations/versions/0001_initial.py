"""Contributions and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contributions",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("qdframe_version", sa.String(32), nullable=False),
        sa.Column("system_type", sa.String(64), nullable=False),
        sa.Column("install_token", sa.String(32), nullable=False),
        sa.Column("suite", sa.String(32), nullable=False),
        sa.Column("savings", sa.Float(), nullable=False),
        sa.Column("energy_savings", sa.Float(), nullable=True),
        sa.Column("quantum_advantage", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("workloads", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_contributions_version_system", "contributions", ["qdframe_version", "system_type"]
    )
    op.create_index("ix_contributions_token", "contributions", ["install_token"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("contribution_id", _Id, sa.ForeignKey("contributions.id"), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_contributions_token", table_name="contributions")
    op.drop_index("ix_contributions_version_system", table_name="contributions")
    op.drop_table("contributions")
