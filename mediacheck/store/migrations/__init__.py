"""Alembic migrations of the case database, numbered 0001, 0002, ... (see docs/teams.md)."""
