"""Server-issued installation identities.

Adds the server's secrets, the issued identities, and marks which stored
contributions came from an issued identity (rows from before are kept but no
longer counted).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "installations",
        sa.Column("install_id", sa.String(32), primary_key=True),
        sa.Column("issued_at", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("contributions") as batch:
        batch.add_column(
            sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("contributions") as batch:
        batch.drop_column("verified")
    op.drop_table("installations")
    op.drop_table("server_secrets")
