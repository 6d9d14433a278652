"""Persistence: SQLModel tables, engine/session factory, Alembic migrations and small repositories."""
