"""Users, their stored dialog state and profile."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from db.models import Conversation, Profile, User
from db.types import utcnow


def get_or_create_user(session: Session, transport: str, external_id: str, language: str = "de") -> User:
    """Returns the user row locked for this transaction (PostgreSQL), so one user's turns run in order
    even when several bot processes share the database."""
    stmt = select(User).where(User.transport == transport, User.external_id == external_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    user = session.exec(stmt).first()
    if user is None:
        try:
            with session.begin_nested():
                user = User(transport=transport, external_id=external_id, language=language)
                session.add(user)
                session.flush()
        except sa.exc.IntegrityError:  # another process created it a moment ago
            user = session.exec(stmt).one()
    user.last_seen_at = utcnow()
    if not user.active:
        user.active = True  # writing to us again means the user unblocked the bot
    session.add(user)
    return user


def find_user(session: Session, transport: str, external_id: str) -> User | None:
    stmt = select(User).where(User.transport == transport, User.external_id == external_id)
    return session.exec(stmt).first()


def load_state(session: Session, user_id: int) -> dict[str, Any] | None:
    conv = session.get(Conversation, user_id)
    return dict(conv.state) if conv else None


def save_state(session: Session, user_id: int, state: dict[str, Any]) -> None:
    conv = session.get(Conversation, user_id)
    if conv is None:
        conv = Conversation(user_id=user_id, state=state)
    else:
        conv.state = state
        conv.updated_at = utcnow()
    session.add(conv)


def save_profile(session: Session, user_id: int, **slots: str | None) -> None:
    profile = session.get(Profile, user_id) or Profile(user_id=user_id)
    changed = False
    for name, value in slots.items():
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed = True
    if changed or profile.updated_at is None:
        profile.updated_at = utcnow()
        session.add(profile)


def load_profile(session: Session, user_id: int) -> Profile | None:
    return session.get(Profile, user_id)


def mark_inactive(session: Session, transport: str, external_id: str) -> bool:
    """The user blocked the bot: keep the data (until they delete it) but send nothing more."""
    user = find_user(session, transport, external_id)
    if user is None or not user.active:
        return False
    user.active = False
    session.add(user)
    return True
