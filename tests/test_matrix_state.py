"""What the Matrix transport keeps across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from bot.matrix import state
from db import privacy, users
from db.engine import session_scope
from db.matrix_models import MatrixOptions, MatrixRoom
from db.models import Profile, User
from handlers.turn import Option

BOT = "@lotse:example.org"
ROOM = "!dm:example.org"
OPTIONS = (Option("sit:betrieb", "Arbeitgeber / Betrieb"), Option("sit:schule", "Schule"))


def _user(engine: sa.Engine, room_id: str = ROOM) -> int:
    with session_scope(engine) as session:
        user = users.get_or_create_user(session, "matrix", room_id)
        assert user.id is not None
        return user.id


def test_device_and_sync_token_survive_and_a_new_device_starts_over(engine: sa.Engine) -> None:
    assert state.load_account(engine, BOT) == state.AccountState(None, None)
    state.save_device(engine, BOT, "DEVICE1")
    state.save_sync_token(engine, BOT, "s72594_4483_1934")
    assert state.load_account(engine, BOT) == state.AccountState("DEVICE1", "s72594_4483_1934")
    state.save_device(engine, BOT, "DEVICE1")  # the same device again: keep the position
    assert state.load_account(engine, BOT).next_batch == "s72594_4483_1934"
    state.save_device(engine, BOT, "DEVICE2")  # another device: its sync position is unknown
    assert state.load_account(engine, BOT) == state.AccountState("DEVICE2", None)


def test_options_are_remembered_per_conversation_with_their_events(engine: sa.Engine) -> None:
    state.remember_options(engine, ROOM, OPTIONS)  # no conversation yet: nothing stored
    assert state.load_options(engine, ROOM) == state.OptionMemory()
    _user(engine)
    state.remember_options(engine, ROOM, OPTIONS)
    state.remember_option_events(engine, ROOM, ["$a", "$b"])
    assert state.load_options(engine, ROOM) == state.OptionMemory(OPTIONS, ("$a", "$b"))
    state.remember_options(engine, ROOM, OPTIONS[:1])  # new options: the old events no longer count
    assert state.load_options(engine, ROOM) == state.OptionMemory(OPTIONS[:1], ())
    assert state.load_options(engine, "!other:example.org") == state.OptionMemory()


def test_rooms_joined_greeted_and_left(engine: sa.Engine) -> None:
    state.mark_joined(engine, BOT, ["!old:example.org"], greeted=True)  # found at a first start
    assert state.load_room(engine, BOT, "!old:example.org") == state.RoomStatus(True, True)
    assert state.load_room(engine, BOT, ROOM) == state.RoomStatus(False, False)
    state.mark_greeted(engine, BOT, ROOM)
    assert sorted(state.joined_rooms(engine, BOT)) == ["!dm:example.org", "!old:example.org"]

    user_id = _user(engine)
    state.remember_options(engine, ROOM, OPTIONS)
    with session_scope(engine) as session:
        session.add(Profile(user_id=user_id))
    assert state.purge_room(engine, BOT, ROOM) is True  # left or kicked: room and conversation are gone
    assert state.load_room(engine, BOT, ROOM) == state.RoomStatus(False, False)
    assert state.joined_rooms(engine, BOT) == ["!old:example.org"]
    assert state.load_options(engine, ROOM) == state.OptionMemory()
    with Session(engine) as session:
        assert session.get(User, user_id) is None
        assert session.get(Profile, user_id) is None
        assert session.get(MatrixRoom, (BOT, ROOM)) is None
    assert state.purge_room(engine, BOT, "!declined:example.org") is False  # nothing stored: nothing to do


def test_deleting_a_person_deletes_their_option_memory(engine: sa.Engine) -> None:
    user_id = _user(engine)
    state.remember_options(engine, ROOM, OPTIONS)
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        assert "matrix_options" in privacy.export_user_data(session, user)  # shown in !meinedaten
        privacy.delete_user(session, user)
    with Session(engine) as session:
        assert session.get(MatrixOptions, user_id) is None
    assert state.user_language(engine, ROOM) == "de"
