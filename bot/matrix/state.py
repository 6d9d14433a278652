"""What the Matrix transport keeps in the database: device id, sync token, rooms and their last options.

Small synchronous functions, called from the event loop through `asyncio.to_thread`, each one
short transaction; the database stays the truth a restart starts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.matrix import SPEC
from db import privacy, users
from db.engine import session_scope
from db.matrix_models import MatrixAccount, MatrixOptions, MatrixRoom
from db.types import utcnow
from handlers.turn import Option

TRANSPORT = SPEC.name


@dataclass(frozen=True, slots=True)
class AccountState:
    device_id: str | None
    next_batch: str | None


@dataclass(frozen=True, slots=True)
class RoomStatus:
    joined: bool
    greeted: bool


@dataclass(frozen=True, slots=True)
class OptionMemory:
    options: tuple[Option, ...] = ()
    events: tuple[str, ...] = ()


def load_account(engine: sa.Engine, user_id: str) -> AccountState:
    with session_scope(engine) as session:
        row = session.get(MatrixAccount, user_id)
        return AccountState(row.device_id, row.next_batch) if row else AccountState(None, None)


def _account(session: Session, user_id: str) -> MatrixAccount:
    row = session.get(MatrixAccount, user_id)
    return row or MatrixAccount(user_id=user_id)


def save_device(engine: sa.Engine, user_id: str, device_id: str) -> None:
    with session_scope(engine) as session:
        row = _account(session, user_id)
        if row.device_id != device_id:
            # another device means another crypto identity: the old sync position does not apply
            row.next_batch = None
        row.device_id = device_id
        row.updated_at = utcnow()
        session.add(row)


def save_sync_token(engine: sa.Engine, user_id: str, next_batch: str) -> None:
    with session_scope(engine) as session:
        row = _account(session, user_id)
        row.next_batch = next_batch
        row.updated_at = utcnow()
        session.add(row)


def _room(session: Session, account: str, room_id: str) -> MatrixRoom:
    row = session.get(MatrixRoom, (account, room_id))
    return row or MatrixRoom(account=account, room_id=room_id)


def load_room(engine: sa.Engine, account: str, room_id: str) -> RoomStatus:
    with session_scope(engine) as session:
        row = session.get(MatrixRoom, (account, room_id))
        return RoomStatus(row.joined, row.greeted) if row else RoomStatus(False, False)


def mark_joined(engine: sa.Engine, account: str, room_ids: Sequence[str], greeted: bool) -> None:
    """Records rooms as joined; `greeted=True` for rooms found at a first start (no welcome for those)."""
    with session_scope(engine) as session:
        for room_id in room_ids:
            row = _room(session, account, room_id)
            if row.joined and (row.greeted or not greeted):
                continue
            row.joined = True
            row.greeted = row.greeted or greeted
            row.updated_at = utcnow()
            session.add(row)


def mark_greeted(engine: sa.Engine, account: str, room_id: str) -> None:
    with session_scope(engine) as session:
        row = _room(session, account, room_id)
        row.joined = True
        row.greeted = True
        row.updated_at = utcnow()
        session.add(row)


def purge_room(engine: sa.Engine, account: str, room_id: str) -> bool:
    """The bot is out of the room (left, declined, kicked, banned): forget the room and its conversation.

    The room id is the conversation's only address, and a room the bot has left cannot be written
    to any more (Synapse refuses; a new invitation is a new room membership that starts afresh). So
    keeping the conversation would keep a profile and subscriptions that can never be served until
    the inactivity purge: it is deleted now like `!loeschen` does (profile, subscriptions, pending
    reminders, option memory), and the room row goes too. Returns whether a conversation existed.
    """
    with session_scope(engine) as session:
        row = session.get(MatrixRoom, (account, room_id))
        if row is not None:
            session.delete(row)
            session.flush()
        user = users.find_user(session, TRANSPORT, room_id)
        if user is None:
            return False
        privacy.delete_user(session, user)
        return True


def load_options(engine: sa.Engine, room_id: str) -> OptionMemory:
    with session_scope(engine) as session:
        user = users.find_user(session, TRANSPORT, room_id)
        row = session.get(MatrixOptions, user.id) if user is not None and user.id is not None else None
        if row is None:
            return OptionMemory()
        options = tuple(
            Option(str(item[0]), str(item[1]))
            for item in row.options or []
            if isinstance(item, list | tuple) and len(item) == 2
        )
        return OptionMemory(options, tuple(str(e) for e in row.option_events or []))


def remember_options(engine: sa.Engine, room_id: str, options: Sequence[Option]) -> None:
    """Stored before the message goes out, so an answer can never arrive before its numbering.

    Only for a conversation that exists (a deleted one gets no new memory behind its back).
    """
    with session_scope(engine) as session:
        user = users.find_user(session, TRANSPORT, room_id)
        if user is None or user.id is None:
            return
        row = session.get(MatrixOptions, user.id) or MatrixOptions(user_id=user.id)
        row.options = [[o.id, o.label] for o in options]
        row.option_events = []
        row.updated_at = utcnow()
        session.add(row)


def remember_option_events(engine: sa.Engine, room_id: str, event_ids: Sequence[str]) -> None:
    with session_scope(engine) as session:
        user = users.find_user(session, TRANSPORT, room_id)
        row = session.get(MatrixOptions, user.id) if user is not None and user.id is not None else None
        if row is None:
            return
        row.option_events = list(event_ids)
        row.updated_at = utcnow()
        session.add(row)


def joined_rooms(engine: sa.Engine, account: str) -> list[str]:
    with session_scope(engine) as session:
        stmt = select(MatrixRoom.room_id).where(MatrixRoom.account == account, MatrixRoom.joined)
        return list(session.exec(stmt).all())


def user_language(engine: sa.Engine, room_id: str) -> str:
    with session_scope(engine) as session:
        user = users.find_user(session, TRANSPORT, room_id)
        return user.language if user else "de"
