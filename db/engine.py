"""Engine and session factory for SQLite (embedded default) and PostgreSQL (several processes).

The SQLite file holds every user's profile and conversation state, so it and the directory this
module creates for it are private to the bot's user (0600/0700, like the Matrix crypto store),
whatever the process umask says. SQLite gives its -wal/-shm files the database file's mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session


def rowcount(result: sa.Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (0 when the driver cannot tell).

    SQLModel's `Session.execute` is typed to return a plain `Result`; for these statements it is a
    `CursorResult`, the one that has `rowcount`."""
    return max(cast(sa.CursorResult[Any], result).rowcount, 0)


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_file(Path(parsed.database))
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No pool_pre_ping: it cost a round trip (SELECT 1) on every checkout, i.e. every turn. A connection
    # that died with the server fails its statement; SQLAlchemy then discards the whole pool, so one
    # turn answers "unavailable" and the next ones connect afresh.
    return sa.create_engine(url, **kwargs)


def _private_file(path: Path) -> None:
    """Create the database file (and missing directories) readable only by this user; tighten an
    existing file that others could read."""
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is reduced by the umask, never widened
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode) and mode & 0o077:
            # not our file (e.g. an operator's read-only copy): leave it as its owner set it
            with contextlib.suppress(PermissionError):
                path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
