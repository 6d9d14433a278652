"""Wiring shared by every entry point: database, offer base, features and the conversation service.

The environment (`bot.settings.Settings`) is turned here into the typed view the features and the
schedulers get (`handlers.feature_settings.FeatureSettings`), so the dialog core never imports `bot`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from bot.conversation import ConversationService, Resolver
from bot.courses import CourseLookup
from bot.offer_refresh import read_knowledge
from bot.settings import Settings
from bot.transports import command_prefixes
from db import migrate, offer_store
from db.engine import is_postgres, make_engine, session_scope
from handlers.courses import CourseRequest
from handlers.feature_settings import FeatureSettings
from handlers.features import FeatureRegistry
from knowledge.base import KnowledgeBase
from knowledge.courses.client import CourseClient
from knowledge.loader import load_offer_base

log = logging.getLogger(__name__)
STARTUP_LOCK_KEY = 0x426C5374  # "BlSt": PostgreSQL advisory lock for migrating and seeding at start-up


class StartupError(Exception):
    """Start-up cannot continue; the message is one line for the operator."""


def open_database(settings: Settings, migrate_schema: bool = True) -> sa.Engine:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StartupError(
            f"Datenbank nicht erreichbar ({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from None
    if migrate_schema and not migrate.is_current(engine):
        with one_process_at_a_time(engine):
            migrate.upgrade(settings.database_url)
    return engine


@contextmanager
def one_process_at_a_time(engine: sa.Engine) -> Iterator[None]:
    """Several bot processes starting together on one PostgreSQL (docker compose with a second bot,
    two systemd units) migrate and seed the offer base one after another, not into each other: a
    session-level advisory lock, held on a connection of its own. SQLite serves one process."""
    if not is_postgres(engine):
        yield
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
        conn.commit()  # the lock belongs to the session, not to a transaction left open
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
            conn.commit()


def load_knowledge_with_revision(engine: sa.Engine) -> tuple[int, KnowledgeBase]:
    """The database is the truth; an empty offer table is filled from the bundled files first.

    The revision lets a running process tell later whether partners changed the base since
    (bot/offer_refresh.py)."""
    with one_process_at_a_time(engine), session_scope(engine) as session:
        if offer_store.offer_count(session) == 0:
            report = offer_store.upsert_offer_base(session, load_offer_base())
            log.info("bundled offer base loaded: %d entries added", report.added)
    return read_knowledge(engine)


def feature_settings(settings: Settings) -> FeatureSettings:
    return FeatureSettings(
        tz=settings.tz,
        default_language=settings.default_language,
        lead_times=settings.lead_times,
        quiet=settings.quiet,
        reminder_tick_seconds=settings.reminder_tick_seconds,
        admins=settings.admins,
        operator_name=settings.operator_name,
        privacy_contact=settings.privacy_contact,
        inactive_purge_months=settings.inactive_purge_months,
        flood_max_messages=settings.flood_max_messages,
        flood_window_seconds=settings.flood_window_seconds,
    )


def build_features(courses: bool = False) -> FeatureRegistry:
    """`courses`: the live course search, on only where a resolver for it is wired (`build_service`)."""
    from handlers import admin, events, privacy
    from handlers import courses as course_feature

    registry = FeatureRegistry()
    privacy.register(registry)
    events.register(registry)
    course_feature.register(registry, enabled=courses)
    admin.register(registry)
    return registry


def course_resolvers(settings: Settings, engine: sa.Engine) -> dict[type, Resolver]:
    """The live course search (COURSE_SEARCH=on): the API client with the database cache."""
    if settings.course_search != "on":
        return {}
    client = CourseClient(settings.course_api_base_url, settings.course_api_key.get_secret_value())
    return {CourseRequest: CourseLookup(engine, client, settings.course_ttl).resolve}


def build_service(
    settings: Settings, engine: sa.Engine | None = None, kb: KnowledgeBase | None = None
) -> ConversationService:
    """The service every entry point runs; tests pass their engine and the already loaded `kb`
    (whose revision is then unknown: the first refresh check reads the database's base)."""
    engine = engine or open_database(settings)
    revision: int | None = None
    if kb is None:
        revision, kb = load_knowledge_with_revision(engine)
    return ConversationService(
        engine,
        kb,
        feature_settings(settings),
        build_features(courses=settings.course_search == "on"),
        command_prefixes(),
        course_resolvers(settings, engine),
        offer_revision=revision,
    )
