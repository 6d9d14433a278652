"""The SQLite database holds everyone's profile: only the bot's user may read it (issue: privacy)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import migrate
from db.engine import make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A careless service manager's umask (everything world-readable) must not matter."""
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_database_and_its_directory_are_private(tmp_path: Path, open_umask: None) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "data" / "state" / "bildungslotse.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (x TEXT)"))
        conn.execute(sa.text("INSERT INTO probe VALUES ('x')"))
        assert mode(path) == 0o600
        for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if extra.exists():
                assert mode(extra) == 0o600, extra
    engine.dispose()
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert mode(tmp_path) == 0o755  # a directory that already existed is not the bot's to change


def test_an_existing_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.touch()
    path.chmod(0o644)
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    engine.dispose()
    assert mode(path) == 0o600
