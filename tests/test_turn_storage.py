"""The conversation service's storage hot path (db.users.open_turn / close_turn) on SQLite and PostgreSQL.

It reads user, state and profile in one statement and writes only what changed; these tests pin
down what that must not cost: continuity, the retention purge, blocked users, and per-user order
across processes on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Unpack

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.conversation import ConversationService
from db import users
from db.engine import make_engine, session_scope
from db.models import Conversation, Profile, User
from db.privacy import purge_inactive
from handlers.catalogue import t
from handlers.turn import Turn, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import TurnFields, make_turn


def _turn(user: str = "7", **kw: Unpack[TurnFields]) -> Turn:
    kind = TurnKind.OPTION if "option_id" in kw else TurnKind.COMMAND
    return make_turn("telegram", user, kind, **kw)


def _user(engine: sa.Engine, external_id: str = "7") -> User:
    with Session(engine) as s:
        return s.exec(select(User).where(User.external_id == external_id)).one()


def test_a_second_process_continues_the_dialog_turn_by_turn(database_url: str, kb: KnowledgeBase) -> None:
    one, two = make_engine(database_url), make_engine(database_url)
    first, second = ConversationService(one, kb), ConversationService(two, kb)
    first.handle_sync(_turn(command="start"))
    second.handle_sync(_turn(option_id="sit:beschaeftigt"))  # the other process answers the next turn
    replies = first.handle_sync(_turn(option_id="dist:uelzen"))
    assert any(r.question and "Branche" in r.text for r in replies)
    with Session(one) as s:
        profile = s.get(Profile, _user(one).id)
    assert profile is not None and (profile.situation, profile.district) == ("beschaeftigt", "uelzen")
    one.dispose()
    two.dispose()


def test_a_returning_user_is_not_purged_and_an_idle_one_is(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    for who in ("back", "idle"):
        service.handle_sync(_turn(who, command="start"))
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    with session_scope(engine) as s:
        s.execute(sa.update(User).values(last_seen_at=long_ago))
    service.handle_sync(_turn("back", command="hilfe"))
    with session_scope(engine) as s:
        purge_inactive(s, dt.datetime.now(dt.UTC) - dt.timedelta(days=365))
    with Session(engine) as s:
        assert [u.external_id for u in s.exec(select(User))] == ["back"]
    engine.dispose()


def test_last_seen_is_refreshed_once_it_is_a_few_minutes_old(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    ConversationService(engine, kb).handle_sync(_turn(command="start"))
    seen = _user(engine).last_seen_at
    soon = seen + users.TOUCH_INTERVAL / 2
    later = seen + users.TOUCH_INTERVAL * 2
    with session_scope(engine) as s:
        users.open_turn(s, "telegram", "7", now=soon)
    assert _user(engine).last_seen_at == seen
    with session_scope(engine) as s:
        users.open_turn(s, "telegram", "7", now=later)
    assert _user(engine).last_seen_at == later
    engine.dispose()


def test_writing_again_reactivates_a_user_who_blocked_the_bot(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    service.handle_sync(_turn(command="start"))
    with session_scope(engine) as s:
        assert users.mark_inactive(s, "telegram", "7")
    service.handle_sync(_turn(option_id="sit:schule"))  # within the refresh interval, still reactivated
    assert _user(engine).active
    engine.dispose()


def test_a_turn_that_changes_nothing_keeps_the_stored_state(database_url: str, kb: KnowledgeBase) -> None:
    engine = make_engine(database_url)
    service = ConversationService(engine, kb)
    service.handle_sync(_turn(command="start"))
    service.handle_sync(_turn(option_id="sit:schule"))
    with Session(engine) as s:
        before = s.get(Conversation, _user(engine).id)
    replies = service.handle_sync(_turn(command="hilfe"))  # help, then the same question again
    with Session(engine) as s:
        after = s.get(Conversation, _user(engine).id)
    assert replies[-1].question
    assert before is not None and after is not None and after.state == before.state
    engine.dispose()


def test_one_users_turns_wait_for_each_other_across_processes(postgres_url: str, kb: KnowledgeBase) -> None:
    """Two bot processes on one PostgreSQL database: the second turn of a user waits for the first
    one's commit (row lock) and then continues from its state instead of overwriting it."""
    holder_engine, other_engine = make_engine(postgres_url), make_engine(postgres_url)
    ConversationService(holder_engine, kb).handle_sync(_turn(command="start"))
    other = ConversationService(other_engine, kb)
    result: list[list[str]] = []
    with session_scope(holder_engine) as s:
        record = users.open_turn(s, "telegram", "7")  # process A is mid-turn: the user's row is locked
        state = dict(record.state, situation="beschaeftigt", step="district", filled=["situation"])
        worker = threading.Thread(
            target=lambda: result.append([r.text for r in other.handle_sync(_turn(option_id="dist:uelzen"))])
        )
        worker.start()
        holder_pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        # autocommit: every poll is its own transaction, so PostgreSQL answers from a fresh snapshot
        # (inside one transaction pg_stat_activity would repeat the first answer forever)
        with holder_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watch:
            deadline = time.monotonic() + 30  # a bound for a busy machine, not a speed assertion
            while True:
                waiting = watch.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND :holder = ANY(pg_blocking_pids(pid))"
                    ),
                    {"holder": holder_pid},
                ).scalar_one()
                if waiting or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        assert waiting and not result  # B is blocked, not answered from the old state
        users.close_turn(s, record, state, "de", {"situation": "beschaeftigt"})
    worker.join(30)
    assert result and any("Branche" in text for text in result[0])  # B saw A's answer: asks the next slot
    holder_engine.dispose()
    other_engine.dispose()


def test_two_processes_meeting_a_new_user_at_once_create_one_user(
    postgres_url: str, kb: KnowledgeBase
) -> None:
    """The first contact is one INSERT … ON CONFLICT DO NOTHING: when two processes get the first
    messages of a new user at the same moment, both answer and the user exists once."""
    engines = [make_engine(postgres_url) for _ in range(2)]
    services = [ConversationService(engine, kb) for engine in engines]
    for attempt in range(10):
        user = f"new-{attempt}"
        start = threading.Barrier(2)
        answers: list[str] = []

        def first_turn(
            service: ConversationService, user: str, start: threading.Barrier, answers: list[str]
        ) -> None:
            start.wait()
            answers.extend(r.text for r in service.handle_sync(_turn(user, command="start")))

        workers = [
            threading.Thread(target=first_turn, args=(service, user, start, answers)) for service in services
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert sum("Guten Tag" in text for text in answers) == 2  # both answered, no error reply
        with Session(engines[0]) as s:
            assert len(s.exec(select(User).where(User.external_id == user)).all()) == 1
    for engine in engines:
        engine.dispose()


def test_after_the_server_dropped_its_connections_the_bot_answers_again(
    postgres_url: str, kb: KnowledgeBase
) -> None:
    """No ping before each turn: a connection the server closed fails one turn with the friendly
    "unavailable" note (never a traceback), and the turns after it run on fresh connections."""
    engine, admin_engine = make_engine(postgres_url), make_engine(postgres_url)
    service = ConversationService(engine, kb)
    service.handle_sync(_turn(command="start"))
    with admin_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        killed = admin.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert killed  # the service's pooled connection is gone
    unavailable = t("de", "error.unavailable")
    assert [r.text for r in service.handle_sync(_turn(option_id="sit:beschaeftigt"))] == [unavailable]
    again = [r.text for r in service.handle_sync(_turn(option_id="sit:beschaeftigt"))]
    assert any(t("de", "ask.district") in text for text in again)  # the dialog goes on where it was
    engine.dispose()
    admin_engine.dispose()
