"""Alembic migrations of the sharing server's database (SQLite and PostgreSQL)."""
