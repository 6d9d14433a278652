"""Turns through the service with a real database (SQLite and PostgreSQL): state survives restarts."""

from __future__ import annotations

from typing import Unpack

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.conversation import ConversationService
from db.engine import make_engine
from db.models import Conversation, Profile, User
from handlers.feature_settings import FeatureSettings
from handlers.state import Step
from handlers.turn import Turn, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import TurnFields, make_turn


def turn(kind: TurnKind, user: str = "42", **kw: Unpack[TurnFields]) -> Turn:
    return make_turn("console", user, kind, **kw)


def test_restart_mid_dialog_continues_where_the_user_was(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    first = ConversationService(engine, kb)
    first.handle_sync(turn(TurnKind.COMMAND, command="start"))
    first.handle_sync(turn(TurnKind.OPTION, option_id="sit:beschaeftigt"))
    replies = first.handle_sync(turn(TurnKind.TEXT, text="Uelzen"))
    assert any(r.question and "Branche" in r.text for r in replies)
    engine.dispose()  # the process dies here

    engine = make_engine(database_url)
    second = ConversationService(engine, kb)
    resumed = second.handle_sync(turn(TurnKind.COMMAND, command="resume"))
    assert "Willkommen zurück" in resumed[0].text
    replies = second.handle_sync(turn(TurnKind.OPTION, option_id="sec:handwerk"))
    assert any("Was möchten Sie erreichen" in r.text for r in replies)
    with Session(engine) as s:
        user = s.exec(select(User).where(User.external_id == "42")).one()
        state = s.get(Conversation, user.id)
        profile = s.get(Profile, user.id)
    assert state is not None and state.state["step"] == Step.GOAL
    assert profile is not None and (profile.situation, profile.district, profile.sector) == (
        "beschaeftigt",
        "uelzen",
        "handwerk",
    )
    engine.dispose()


def test_users_are_kept_apart(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    service.handle_sync(turn(TurnKind.COMMAND, user="a", command="start"))
    service.handle_sync(turn(TurnKind.OPTION, user="a", option_id="sit:betrieb"))
    service.handle_sync(turn(TurnKind.COMMAND, user="b", command="start"))
    with Session(engine) as s:
        conversations = {u.external_id: s.get(Conversation, u.id) for u in s.exec(select(User)).all()}
        assert None not in conversations.values()
        states = {user: c.state["situation"] for user, c in conversations.items() if c is not None}
    assert states == {"a": "betrieb", "b": None}
    engine.dispose()


def test_damaged_stored_state_starts_fresh_instead_of_failing(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    service.handle_sync(turn(TurnKind.COMMAND, command="start"))
    with Session(engine) as s:
        conv = s.exec(select(Conversation)).one()
        conv.state = {"version": 1, "step": "nonsense", "situation": 17}
        s.add(conv)
        s.commit()
    replies = service.handle_sync(turn(TurnKind.TEXT, text="Hallo"))
    assert replies and "schiefgelaufen" not in replies[0].text
    engine.dispose()


async def test_async_handle_serialises_one_users_turns(database_url: str, kb: KnowledgeBase) -> None:
    import asyncio

    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    await service.handle(turn(TurnKind.COMMAND, command="start"))
    answers = ["sit:schule", "dist:harburg", "sec:it", "goal:ausbildung"]
    await asyncio.gather(*(service.handle(turn(TurnKind.OPTION, option_id=a)) for a in answers))
    with Session(engine) as s:
        state = s.exec(select(Conversation)).one().state
    assert (state["situation"], state["district"], state["sector"], state["goal"]) == (
        "schule",
        "harburg",
        "it",
        "ausbildung",
    )
    engine.dispose()


def test_database_outage_gives_a_friendly_answer(kb: KnowledgeBase) -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=True)
    service = ConversationService(engine, kb)
    replies = service.handle_sync(turn(TurnKind.COMMAND, command="start"))
    assert len(replies) == 1 and "kurz nicht erreichbar" in replies[0].text


def test_flooding_gets_one_notice_then_silence(sqlite_url: str, kb: KnowledgeBase) -> None:
    import asyncio

    engine = make_engine(sqlite_url)
    service = ConversationService(engine, kb, FeatureSettings(flood_max_messages=3, flood_window_seconds=60))

    async def burst() -> list[list[str]]:
        out = []
        for _ in range(6):
            out.append([r.text for r in await service.handle(turn(TurnKind.TEXT, text="hallo"))])
        return out

    results = asyncio.run(burst())
    assert all(r for r in results[:3])
    assert "sehr schnell" in results[3][0]
    assert results[4] == [] and results[5] == []
    engine.dispose()


def test_database_lost_during_operation_then_back(postgres_url: str, kb: KnowledgeBase) -> None:
    from tests.conftest import PG_ADMIN_URL

    name = sa.engine.make_url(postgres_url).database
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    engine = make_engine(postgres_url)
    service = ConversationService(engine, kb)
    service.handle_sync(turn(TurnKind.COMMAND, command="start"))

    def allow(flag: bool) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(flag).lower()}'))
            if not flag:
                kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                conn.execute(sa.text(kill), {"n": name})

    allow(False)
    try:
        down = service.handle_sync(turn(TurnKind.OPTION, option_id="sit:schule"))
        assert len(down) == 1 and "kurz nicht erreichbar" in down[0].text
    finally:
        allow(True)
    back = service.handle_sync(turn(TurnKind.OPTION, option_id="sit:schule"))
    assert any("Landkreis" in r.text for r in back)
    engine.dispose()
    admin.dispose()


def test_logs_hold_no_message_contents(sqlite_url: str, kb: KnowledgeBase, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    engine = make_engine(sqlite_url)
    service = ConversationService(engine, kb)
    secret = "Geheimwort Zebrastreifen aus Uelzen"
    service.handle_sync(turn(TurnKind.TEXT, text=secret))
    with Session(engine) as s:  # a damaged turn is logged, but only with its kind
        conv = s.exec(select(Conversation)).one()
    engine.dispose()
    broken = ConversationService(sa.create_engine("postgresql+psycopg://x@127.0.0.1:1/y"), kb)
    broken.handle_sync(turn(TurnKind.TEXT, text=secret))
    assert conv is not None
    assert "Zebrastreifen" not in caplog.text
