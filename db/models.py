"""Core tables: users, their dialog state and profile, and the offer base.

Later feature areas (events, reminders, audit) keep their tables in their own modules; all are
imported by `db.schema` so Alembic and `create_all` see one metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("transport", "external_id", name="uq_users_transport_external"),)

    id: int | None = Field(default=None, primary_key=True)
    transport: str = Field(max_length=16)
    external_id: str = Field(max_length=255)
    language: str = Field(default="de", max_length=8)
    active: bool = Field(default=True)  # False once the user blocked the bot: nothing more is sent
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """The dialog state after the last completed turn; the only thing a restart needs."""

    __tablename__ = "conversations"

    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    state: dict[str, Any] = Field(sa_type=sa.JSON)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Profile(SQLModel, table=True):
    """What the user told us (situation, district, sector, goal): used for reminders and statistics."""

    __tablename__ = "profiles"

    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    situation: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=32)
    sector: str | None = Field(default=None, max_length=32)
    goal: str | None = Field(default=None, max_length=32)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfferRecord(SQLModel, table=True):
    __tablename__ = "offers"

    id: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    data: dict[str, Any] = Field(sa_type=sa.JSON)
    content_hash: str = Field(max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # a person's check (`bildungslotse knowledge verify`); loading the YAML never touches these
    verified_on: dt.date | None = Field(default=None)
    verified_by: str | None = Field(default=None, max_length=200)
    # set when a person edited the texts in the partner console: `knowledge load` then reports a
    # differing file as a conflict instead of overwriting the edit (db/offer_store.py)
    edited_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    edited_by: str | None = Field(default=None, max_length=200)


class InstitutionRecord(SQLModel, table=True):
    __tablename__ = "institutions"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    data: dict[str, Any] = Field(sa_type=sa.JSON)
    content_hash: str = Field(max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # see OfferRecord.edited_at
    edited_by: str | None = Field(default=None, max_length=200)


class OfferBaseRevision(SQLModel, table=True):
    """One row, raised in the same transaction as every write to offers or institutions.

    Each bot process keeps its offer base in memory; comparing one integer with the revision it
    loaded tells it cheaply, without reading the offers, that a partner's edit is waiting
    (bot/offer_refresh.py). A counter rather than a timestamp: two edits in one clock tick differ."""

    __tablename__ = "offer_base_revision"

    id: int = Field(default=1, sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    revision: int = Field(default=0, sa_type=sa.BigInteger)
    changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
