"""Alembic environment: runs migrations on the connection the server hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from qdframe.network.server.storage import metadata

# Any constant identifies the lock; several server processes starting at once
# on one PostgreSQL must not run the same migration twice.
_MIGRATION_LOCK = 0x71_64_66_72  # "qdfr"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
if connection.dialect.name == "postgresql":
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
with context.begin_transaction():
    context.run_migrations()
