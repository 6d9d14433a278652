"""Schema changes go through migrations: the migrated database equals the models, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from db import migrate
from db.engine import make_engine
from db.schema import metadata


def test_migrations_produce_exactly_the_model_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    assert migrate.current_heads(database_url) == set()
    migrate.upgrade(database_url)
    heads = migrate.current_heads(database_url)
    assert "0001" not in heads and heads
