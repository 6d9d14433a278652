"""The start-up fast path: a current database is recognised without Alembic, and only a current one."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from db import migrate
from db.engine import make_engine


def test_the_heads_read_from_the_files_are_alembics_heads(tmp_path: Path) -> None:
    config = migrate.alembic_config(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert migrate.script_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_only_a_database_at_the_heads_counts_as_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    try:
        assert not migrate.is_current(engine)  # new, empty
        migrate.upgrade(url)
        assert migrate.is_current(engine)
        migrate.downgrade(url, "-1")
        assert not migrate.is_current(engine)  # one behind: start-up runs Alembic
    finally:
        engine.dispose()
