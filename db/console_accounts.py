"""Personal accounts of the partner console: who may sign in, with which role, for which institutions.

An account belongs to one person (no shared passwords). `admin` may do everything and manage
accounts; `editor` is bound to institution ids of the offer base and edits only their events
and offers. Passwords are stored as argon2 hashes only. `session_version` is part of every
console session cookie: raising it signs the person out on every device at once ("sign out
everywhere", a password reset, disabling the account). Failed sign-ins are counted on the row,
so the lockout holds across processes and restarts; the price is one write per failed attempt.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel, col, select

from db.types import UTCDateTime, utcnow

HASHER = PasswordHasher()
MIN_PASSWORD = 12
MAX_FAILED = 5  # failed sign-ins in a row before the account is locked for LOCK_FOR
LOCK_FOR = dt.timedelta(minutes=15)


@cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so an unknown name costs the same time as a wrong
    password. Made at the first sign-in, not at import: an argon2 hash is deliberately slow (about
    0.15 s), and every process imports this module (the bot and `chat` through the privacy code)."""
    return HASHER.hash("bildungslotse-dummy-password")


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


class ConsoleAccount(SQLModel, table=True):
    __tablename__ = "console_accounts"
    __table_args__ = (sa.UniqueConstraint("login", name="uq_console_accounts_login"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=100)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.EDITOR.value, max_length=16)
    institutions: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # knowledge institution ids
    active: bool = Field(default=True)
    session_version: int = Field(default=1)
    failed_logins: int = Field(default=0)
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"web:{self.login}"


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is German and fit for the CLI."""


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Das Passwort braucht mindestens {MIN_PASSWORD} Zeichen."
    return None


def get_by_login(session: Session, login: str) -> ConsoleAccount | None:
    return session.exec(select(ConsoleAccount).where(ConsoleAccount.login == login.strip().lower())).first()


def list_accounts(session: Session) -> list[ConsoleAccount]:
    return list(session.exec(select(ConsoleAccount).order_by(col(ConsoleAccount.login))).all())


def add_account(
    session: Session,
    login: str,
    password: str,
    role: Role,
    institutions: list[str],
    now: dt.datetime,
    name: str = "",
) -> ConsoleAccount:
    login = login.strip().lower()
    if not login or len(login) > 100:
        raise AccountError("Der Anmeldename ist leer oder zu lang.")
    if get_by_login(session, login) is not None:
        raise AccountError(f"Ein Konto '{login}' gibt es schon.")
    if (problem := password_problem(password)) is not None:
        raise AccountError(problem)
    if role is Role.EDITOR and not institutions:
        raise AccountError("Ein Konto mit der Rolle editor braucht mindestens eine Einrichtung.")
    account = ConsoleAccount(
        login=login,
        name=name.strip()[:200],
        password_hash=HASHER.hash(password),
        role=role.value,
        institutions=sorted(set(institutions)) if role is Role.EDITOR else [],
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, account: ConsoleAccount, password: str, now: dt.datetime) -> None:
    """A new password also ends every open session and lifts a lockout."""
    if (problem := password_problem(password)) is not None:
        raise AccountError(problem)
    account.password_hash = HASHER.hash(password)
    account.failed_logins, account.locked_until = 0, None
    end_sessions(session, account, now)


def disable(session: Session, account: ConsoleAccount, now: dt.datetime) -> None:
    account.active = False
    end_sessions(session, account, now)


def end_sessions(session: Session, account: ConsoleAccount, now: dt.datetime) -> None:
    """Sign out everywhere: every cookie carrying the old version is refused from now on."""
    account.session_version += 1
    account.updated_at = now
    session.add(account)
    session.flush()


def authenticate(session: Session, login: str, password: str, now: dt.datetime) -> ConsoleAccount | None:
    """The account if login and password fit and it is active and not locked; counts failures."""
    account = get_by_login(session, login)
    if account is None or not account.active:
        _verify(_dummy_hash(), password)
        return None
    if account.locked_until is not None and account.locked_until > now:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED:
            account.locked_until, account.failed_logins = now + LOCK_FOR, 0
        session.add(account)
        session.flush()
        return None
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = HASHER.hash(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    session.add(account)
    session.flush()
    return account


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
