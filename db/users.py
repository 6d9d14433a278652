"""Users, their stored dialog state and profile.

`open_turn` / `close_turn` are the conversation service's hot path: every incoming message runs
them, so they use Core statements, read user, state and profile with one SELECT, and write only
what changed. The ORM helpers below serve everything else.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from db.models import Conversation, Profile, User
from db.types import utcnow

# last_seen_at only feeds the retention purge (months): refreshing it at most this often saves
# a write on nearly every turn of an active conversation
TOUCH_INTERVAL = dt.timedelta(minutes=5)
PROFILE_SLOTS = ("situation", "district", "sector", "goal")

# SQLModel sets __table__ in its metaclass, which mypy does not see
_users: sa.Table = User.__table__  # type: ignore[attr-defined]
_conversations: sa.Table = Conversation.__table__  # type: ignore[attr-defined]
_profiles: sa.Table = Profile.__table__  # type: ignore[attr-defined]


_SELECT_TURN = (
    sa.select(
        _users.c.id,
        _users.c.language,
        _users.c.active,
        _users.c.last_seen_at,
        _conversations.c.user_id.label("has_state"),
        _conversations.c.state,
        _profiles.c.user_id.label("has_profile"),
        *(_profiles.c[name] for name in PROFILE_SLOTS),
    )
    .select_from(
        _users.outerjoin(_conversations, _conversations.c.user_id == _users.c.id).outerjoin(
            _profiles, _profiles.c.user_id == _users.c.id
        )
    )
    .where(
        _users.c.transport == sa.bindparam("transport"),
        _users.c.external_id == sa.bindparam("external_id"),
    )
)
_LOCK_USER = (
    sa.select(_users.c.id)
    .where(
        _users.c.transport == sa.bindparam("transport"),
        _users.c.external_id == sa.bindparam("external_id"),
    )
    .with_for_update()
)
_TOUCH = (
    sa.update(_users)
    .where(_users.c.id == sa.bindparam("uid"))
    .values(last_seen_at=sa.bindparam("now"), active=True)
)
_SET_LANGUAGE = (
    sa.update(_users).where(_users.c.id == sa.bindparam("uid")).values(language=sa.bindparam("lang"))
)
# A campaign brings thousands of first contacts: the ORM's get-or-create (SELECT, SAVEPOINT, INSERT,
# flush, SELECT again) cost 1.8 ms of CPU per first turn on SQLite, 14 times a returning user's turn.
# Both databases can insert "unless it exists" in one statement.
_INSERT_USER = {
    name: dialect_insert(_users).on_conflict_do_nothing(index_elements=["transport", "external_id"])
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_INSERT_STATE = sa.insert(_conversations)
_UPDATE_STATE = (
    sa.update(_conversations)
    .where(_conversations.c.user_id == sa.bindparam("uid"))
    .values(state=sa.bindparam("state"), updated_at=sa.bindparam("now"))
)
_INSERT_PROFILE = sa.insert(_profiles)
_UPDATE_PROFILE = (
    sa.update(_profiles)
    .where(_profiles.c.user_id == sa.bindparam("uid"))
    .values(**{name: sa.bindparam(f"v_{name}") for name in PROFILE_SLOTS}, updated_at=sa.bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """What one turn needs to know about its user, as stored before the turn."""

    user_id: int
    language: str
    has_state: bool  # False: no conversation row yet
    state: Any  # as stored: normally a dict, but restoring it is the dialog state's business
    profile: tuple[str | None, ...] | None  # PROFILE_SLOTS values; None: no profile row yet


@functools.cache
def _postgres_sql(dialect: sa.Dialect) -> tuple[str, str]:
    return str(_LOCK_USER.compile(dialect=dialect)), str(_SELECT_TURN.compile(dialect=dialect))


def _read_turn(conn: sa.Connection, transport: str, external_id: str) -> Any:
    params = {"transport": transport, "external_id": external_id}
    if conn.dialect.name != "postgresql":
        return conn.execute(_SELECT_TURN, params).first()
    # PostgreSQL: the user's row stays locked until commit, so one user's turns run in order even when
    # several bot processes share the database. Lock first, read after: under READ COMMITTED a statement
    # sees the data as of its own start, so a locking read that had to wait for another turn would
    # return the state from before that turn's commit. Both go out in one psycopg pipeline with the
    # transaction's BEGIN: one network round trip instead of three, while the server still runs them
    # one after the other (the read's snapshot is taken once the lock is granted).
    import psycopg  # late: a SQLite-only start never loads the driver
    from psycopg.rows import namedtuple_row

    lock_sql, select_sql = _postgres_sql(conn.dialect)
    pg = conn.connection.dbapi_connection
    assert isinstance(pg, psycopg.Connection)
    try:
        with pg.pipeline():
            locked = pg.execute(lock_sql, params)
            read = pg.cursor(row_factory=namedtuple_row).execute(select_sql, params)
        if locked.fetchone() is None:
            return None
        return read.fetchone()
    except psycopg.Error as exc:
        # as SQLAlchemy does for its own statements: a lost server discards the pool, and the turn
        # sees an OperationalError ("unavailable") rather than a driver exception
        if conn.dialect.is_disconnect(exc, pg, None):
            conn.engine.pool._invalidate(conn.connection, exc)
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(select_sql, params, exc, psycopg.Error) from exc


def open_turn(
    session: Session,
    transport: str,
    external_id: str,
    language: str = "de",
    now: dt.datetime | None = None,
) -> TurnRecord:
    """Reads the user with their state and profile in one statement (creating the user on first
    contact) and marks them seen and active: writing to us again means they unblocked the bot."""
    now = now or utcnow()
    conn = session.connection()  # Core on the session's own transaction: no ORM overhead per statement
    row = _read_turn(conn, transport, external_id)
    if row is None:  # first contact: one INSERT that another process's insert of the same user cannot break
        user = {"transport": transport, "external_id": external_id, "language": language}
        conn.execute(
            _INSERT_USER[conn.dialect.name], {**user, "active": True, "created_at": now, "last_seen_at": now}
        )
        row = _read_turn(conn, transport, external_id)
        assert row is not None
    elif not row.active or now - row.last_seen_at >= TOUCH_INTERVAL:
        conn.execute(_TOUCH, {"uid": row.id, "now": now})
    profile = None if row.has_profile is None else tuple(row[-len(PROFILE_SLOTS) :])
    return TurnRecord(row.id, row.language, row.has_state is not None, row.state, profile)


def close_turn(
    session: Session,
    record: TurnRecord,
    state: dict[str, Any],
    language: str,
    profile: dict[str, str | None],
    now: dt.datetime | None = None,
) -> None:
    """Stores the turn's outcome, writing only rows whose content changed."""
    now = now or utcnow()
    conn = session.connection()
    uid = record.user_id
    if not record.has_state:
        conn.execute(_INSERT_STATE, {"user_id": uid, "state": state, "updated_at": now})
    elif state != record.state:
        conn.execute(_UPDATE_STATE, {"uid": uid, "state": state, "now": now})
    values = tuple(None if (v := profile.get(name)) is None else str(v) for name in PROFILE_SLOTS)
    if record.profile is None:
        row = dict(zip(PROFILE_SLOTS, values, strict=True))
        conn.execute(_INSERT_PROFILE, {"user_id": uid, **row, "updated_at": now})
    elif values != record.profile:
        params = {f"v_{name}": value for name, value in zip(PROFILE_SLOTS, values, strict=True)}
        conn.execute(_UPDATE_PROFILE, {"uid": uid, "now": now, **params})
    if language != record.language:
        conn.execute(_SET_LANGUAGE, {"uid": uid, "lang": language})


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
