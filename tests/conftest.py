"""Shared fixtures: fresh databases (SQLite and PostgreSQL), the bundled knowledge base, services.

PostgreSQL tests skip when the server is unreachable on a developer machine, but fail in CI
(CI=true), where the suite must exercise both databases.

Every test is cut off from the developer's .env and environment (`isolate_settings`), so a test
sees the defaults plus what it sets itself. BL_TEST_NOW (an ISO time with offset, e.g.
2026-10-25T23:40:00+01:00) runs the whole session on a shifted, ticking clock: `make test-shifted`
and `make test` use it to prove that nothing depends on the hour the suite happens to run at.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from bot.conversation import ConversationService
from bot.settings import Settings
from db import migrate
from db.engine import make_engine
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn

# fixtures shared by the reminder and broadcast tests (the Telegram outbox on the Bot API stand-in)
pytest_plugins = ["tests.reminders_support", "tests.console_support"]

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
SHIFTED_NOW = os.environ.get("BL_TEST_NOW", "")
_shifted: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    """BL_TEST_NOW: the session starts at that moment and the clock ticks on from there.

    Started before collection, so module constants computed at import see the shifted time too.
    time-machine moves wall-clock reads (datetime.now, time.time), not time.monotonic, so timeouts
    and rate limits behave as usual; subprocesses (the CLI, Synapse) keep the real clock."""
    global _shifted
    if SHIFTED_NOW and _shifted is None:
        _shifted = time_machine.travel(dt.datetime.fromisoformat(SHIFTED_NOW), tick=True)
        _shifted.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _shifted
    if _shifted is not None:
        _shifted.stop()
        _shifted = None


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"clock shifted: BL_TEST_NOW={SHIFTED_NOW}" if SHIFTED_NOW else None


def isolate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `Settings()` reads ./.env or a setting left in the environment (TELEGRAM_BOT_TOKEN, …)."""
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    for name in Settings.model_fields:
        for variant in (name, name.upper()):
            monkeypatch.delenv(variant, raising=False)
    # no test (nor a CLI subprocess, which inherits this) reaches the real Weiterbildungssuche:
    # the course tests wire their own client to a stand-in on 127.0.0.1 (tests/course_api_stub.py)
    monkeypatch.setenv("COURSE_SEARCH", "off")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_settings(monkeypatch)


def _pg_admin() -> sa.Engine | None:
    engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        engine.dispose()
        return None
    return engine


def _pg_url(name: str) -> str:
    return str(sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[sa.Engine, str] | None]:
    """One migrated template database per test session; each test clones it (fast and isolated)."""
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    name = f"bl_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    migrate.upgrade(_pg_url(name))
    yield admin, name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _fresh_pg(pg_template: tuple[sa.Engine, str] | None) -> Iterator[str]:
    if pg_template is None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable")
    admin, template = pg_template
    name = f"bl_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_template: tuple[sa.Engine, str] | None,
) -> Iterator[str]:
    """A migrated, empty database: each test that uses it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "bildungslotse.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        yield from _fresh_pg(pg_template)


@pytest.fixture
def postgres_url(pg_template: tuple[sa.Engine, str] | None) -> Iterator[str]:
    """A migrated PostgreSQL database only (for multi-process / row-locking tests)."""
    yield from _fresh_pg(pg_template)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "bildungslotse.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """Session-wide: the knowledge base is immutable."""
    return KnowledgeBase.bundled()


@pytest.fixture(scope="module")
def service_for_properties(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, kb: KnowledgeBase
) -> Iterator[ConversationService]:
    """The full service with every feature on one SQLite file, shared by a property test's examples."""
    from bot.app import build_features, feature_settings
    from bot.settings import load_settings

    path = tmp_path_factory.mktemp("props") / "db.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = load_settings(_env_file=None, admin_ids="console:p", flood_max_messages=1_000_000)
    engine = make_engine(f"sqlite:///{path}")
    yield ConversationService(engine, kb, feature_settings(settings), build_features())
    engine.dispose()


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    """The Bot API stand-in (Telegram on loopback), fresh for each test."""
    async with BotApiStandIn() as standin:
        yield standin


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()
