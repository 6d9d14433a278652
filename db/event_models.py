"""Tables for events, subscriptions, admin broadcasts and the outbox they share (deliveries).

The delivery table is the truth for reminders: one row per (user, event, kind, n) — a unique key,
so planning the same reminder twice (two ticks, two processes, a restart) can only ever yield one
row, and a row is marked sent only after the transport confirmed it. A broadcast row has no event
but a broadcast, and its own unique key (user, broadcast): one message per recipient, ever.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


class DeliveryKind(StrEnum):
    REMINDER = "reminder"  # n = lead time in minutes
    CHANGE = "change"  # n = the event's notice_seq: every further change is a new key
    CANCEL = "cancel"  # n = the event's notice_seq
    BROADCAST = "broadcast"  # an admin's message to subscribers (broadcast_id set, event_id NULL); n = 0


class DeliveryState(StrEnum):
    PENDING = "pending"  # to be sent at due_at (claimed_by/claimed_at set while a dispatcher works on it)
    SENT = "sent"  # the transport confirmed it
    BLOCKED = "blocked"  # the user blocked the bot: never retried
    FAILED = "failed"  # permanent error or too many attempts
    SKIPPED = "skipped"  # superseded, event over or cancelled, subscription ended: not sent on purpose


class Event(SQLModel, table=True):
    """An info event or counselling day. Code lists are JSON arrays; an empty array means 'all'."""

    __tablename__ = "events"
    __table_args__ = (sa.UniqueConstraint("uid", name="uq_events_uid"),)

    id: int | None = Field(default=None, primary_key=True)  # short, for option ids like "ev:ics:12"
    uid: str = Field(max_length=255)  # the file's id / iCalendar UID
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    place: str | None = Field(default=None, max_length=200)
    online_url: str | None = Field(default=None, max_length=500)
    districts: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    sectors: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    audiences: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    topics: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    organiser: str | None = Field(default=None, max_length=200)  # institution id or a name
    registration_url: str | None = Field(default=None, max_length=500)
    status: str = Field(default="planned", max_length=16)  # planned / changed / cancelled
    example: bool = Field(default=False)
    # bumped on every change that people must hear about (time, place, cancellation)
    notice_seq: int = Field(default=0)
    changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64)
    source: str = Field(default="yaml", max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    """One per user; a copy of the profile at subscription time, so reminders stay predictable."""

    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("user_id", name="uq_subscriptions_user"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    active: bool = Field(default=True, index=True)
    situation: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=32)
    sector: str | None = Field(default=None, max_length=32)
    topics: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # empty: every topic
    # (re)set when the user subscribes: reminders whose time lies before it are not sent
    subscribed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=16)  # "stop", "blocked" or "shared"
    # made in a private chat with one person: its messages are for that person only, so they are
    # never sent into a room that has more members (bot/matrix/sharing.py, the senders' check)
    personal: bool = Field(default=False)


BROADCAST_MAX_TEXT = 2000


class BroadcastTarget(StrEnum):
    DISTRICT = "district"
    SECTOR = "sector"


class Broadcast(SQLModel, table=True):
    """An admin's message to the subscribers of one district or sector; who got it is in deliveries."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=BROADCAST_MAX_TEXT)
    target_kind: str = Field(max_length=16)  # BroadcastTarget
    target_value: str = Field(max_length=32)  # a district or sector code
    recipients: int = Field(default=0)  # how many deliveries were queued: a number, never who
    created_by: str = Field(max_length=300)  # the audit actor ("telegram:123"); kept after user deletion
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (
        # NULLs are distinct in both databases: each key only binds the rows of its own source
        sa.UniqueConstraint("user_id", "event_id", "kind", "n", name="uq_deliveries_key"),
        sa.UniqueConstraint("user_id", "broadcast_id", name="uq_deliveries_broadcast"),
        sa.CheckConstraint("(event_id IS NULL) <> (broadcast_id IS NULL)", name="ck_deliveries_source"),
        sa.Index("ix_deliveries_claim", "status", "transport", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    event_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    broadcast_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("broadcasts.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    kind: str = Field(max_length=16)
    n: int  # lead minutes for reminders, notice sequence for change/cancel, 0 for broadcasts
    transport: str = Field(max_length=16)
    status: str = Field(default=DeliveryState.PENDING.value, max_length=16)
    due_at: dt.datetime = Field(sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    detail: str = Field(default="", max_length=200)  # for operators; never message text
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
