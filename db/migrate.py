"""Runs Alembic programmatically so `bildungslotse db upgrade` needs no alembic.ini next to the data.

Every start migrates, but a database that is already current (nearly every start) is recognised
without Alembic: `is_current` reads the revision ids from the migration files' headers and compares
them with the database's `alembic_version`. Importing Alembic and loading its script directory
cost about a tenth of a second of start-up, for nothing to do.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*['\"](\w+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?::[^=]*)?=(.*)$", re.M)


@cache
def script_heads() -> frozenset[str]:
    """The newest revisions of the migration files: those no other file names as its predecessor."""
    revisions: set[str] = set()
    predecessors: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN.search(text)
        if down is not None:
            predecessors.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    return frozenset(revisions - predecessors)


def is_current(engine: sa.Engine) -> bool:
    """True when the database is at exactly the files' heads (False on any doubt: then Alembic decides)."""
    heads = script_heads()
    try:
        with engine.connect() as conn:
            stored = {row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    except sa.exc.DBAPIError:  # no table yet: a new database
        return False
    return bool(heads) and stored == heads


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
