"""The outbox of reminders and broadcasts: plan due rows, claim them for sending, record what the
transport said.

Exactly once, as far as a messenger allows: a row exists at most once per (user, event, kind, n)
thanks to the unique key, is claimed by one worker at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`
plus a lease, so a crashed worker's rows are taken over after the lease; SQLite: one process,
whose stale claims are released at start-up) and is marked sent only after the transport
confirmed it. An admin broadcast enters the same outbox (one row per recipient, unique per
(user, broadcast)) and from then on is claimed, rate-limited and marked like a reminder. The one
unavoidable gap is a crash between the platform's confirmation and the
commit of "sent": that message is sent again after the restart (at least once beats lost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.engine import rowcount
from db.event_models import (
    Broadcast,
    BroadcastTarget,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Event,
    Subscription,
)
from db.events import Subscriber, active_subscribers, has_real_events, subscriber_suits
from db.models import User
from db.types import UTCDateTime

NOTICE_KINDS = (DeliveryKind.CHANGE.value, DeliveryKind.CANCEL.value)
MAX_ATTEMPTS = 8


class _Scheduled(Protocol):
    @property
    def lead_minutes(self) -> int: ...

    @property
    def nominal(self) -> dt.datetime: ...

    @property
    def send_at(self) -> dt.datetime: ...


class PlanningRules(Protocol):
    """The timing rules (bot.reminders.planner.ReminderRules); db/ only asks, it does not decide."""

    @property
    def leads(self) -> tuple[dt.timedelta, ...]: ...

    def current(self, starts_at: dt.datetime, now: dt.datetime) -> _Scheduled | None: ...

    def notice_due_at(self, now: dt.datetime, starts_at: dt.datetime) -> dt.datetime: ...


@dataclass
class PlanReport:
    reminders: int = 0
    notices: int = 0
    superseded: int = 0


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    user_id: int
    event_id: int | None  # None for a broadcast
    kind: str
    n: int
    transport: str
    external_id: str
    language: str
    attempts: int
    user_active: bool
    subscribed: bool
    broadcast_id: int | None = None
    personal: bool = False  # the subscription was made in a private chat: for that person only


@dataclass
class Counts:
    by_status: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --- planning --------------------------------------------------------------------------------


def plan_due_deliveries(session: Session, now: dt.datetime, rules: PlanningRules) -> PlanReport:
    """Writes every reminder and notice due at `now` as a pending row; running it twice (or in two
    processes at once) adds nothing, because existing keys are skipped and inserts ignore conflicts."""
    report = PlanReport()
    horizon = now + max(rules.leads)
    stmt = select(Event).where(
        col(Event.starts_at) > now,
        sa.or_(col(Event.starts_at) <= horizon, col(Event.notice_seq) > 0),
    )
    if has_real_events(session):  # a database with real events never reminds of an example
        stmt = stmt.where(col(Event.example).is_(False))
    events = session.exec(stmt).all()
    if not events:
        return report
    subscribers = active_subscribers(session)
    for event in events:
        assert event.id is not None
        if event.status != "cancelled":
            current = rules.current(event.starts_at, now)
            if current is not None:
                report.reminders += _plan_reminder(session, event, current, subscribers, now)
                report.superseded += _skip(
                    session,
                    event.id,
                    [DeliveryKind.REMINDER.value],
                    col(Delivery.n) > current.lead_minutes,
                    "superseded",
                )
        else:
            report.superseded += _skip(
                session, event.id, [DeliveryKind.REMINDER.value], sa.true(), "event cancelled"
            )
        if event.notice_seq > 0 and event.changed_at is not None:
            report.notices += _plan_notice(session, event, now, rules, subscribers)
            report.superseded += _skip(
                session, event.id, NOTICE_KINDS, col(Delivery.n) < event.notice_seq, "superseded"
            )
    return report


def _plan_reminder(
    session: Session, event: Event, current: _Scheduled, subscribers: Sequence[Subscriber], now: dt.datetime
) -> int:
    recipients = [s for s in subscribers if s.subscribed_at <= current.nominal and subscriber_suits(event, s)]
    return _insert_new(
        session, event, DeliveryKind.REMINDER.value, current.lead_minutes, current.send_at, recipients, now
    )


def _plan_notice(
    session: Session, event: Event, now: dt.datetime, rules: PlanningRules, subscribers: Sequence[Subscriber]
) -> int:
    """Everyone subscribed before the change whom the event suits, or who was already told about it."""
    assert event.changed_at is not None
    told = set(
        session.exec(
            select(Delivery.user_id).where(
                Delivery.event_id == event.id, Delivery.status == DeliveryState.SENT.value
            )
        ).all()
    )
    recipients = [
        s
        for s in subscribers
        if s.subscribed_at < event.changed_at and (s.user_id in told or subscriber_suits(event, s))
    ]
    kind = DeliveryKind.CANCEL.value if event.status == "cancelled" else DeliveryKind.CHANGE.value
    due_at = rules.notice_due_at(now, event.starts_at)
    return _insert_new(session, event, kind, event.notice_seq, due_at, recipients, now)


def _insert_new(
    session: Session,
    event: Event,
    kind: str,
    n: int,
    due_at: dt.datetime,
    recipients: Iterable[Subscriber],
    now: dt.datetime,
) -> int:
    existing = set(
        session.exec(
            select(Delivery.user_id).where(
                Delivery.event_id == event.id, Delivery.kind == kind, Delivery.n == n
            )
        ).all()
    )
    rows = [
        {
            "user_id": s.user_id,
            "event_id": event.id,
            "kind": kind,
            "n": n,
            "transport": s.transport,
            "status": DeliveryState.PENDING.value,
            "due_at": due_at,
            "attempts": 0,
            "detail": "",
            "created_at": now,
        }
        for s in recipients
        if s.user_id not in existing
    ]
    if not rows:
        return 0
    insert: Any = postgresql.insert if _is_pg(session) else sqlite.insert
    table = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel's metaclass sets it
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_id", "event_id", "kind", "n"])
        .returning(table.c.id)
    )
    added = 0
    for start in range(0, len(rows), 1000):
        added += len(session.execute(stmt, rows[start : start + 1000]).all())
    return added


def _skip(session: Session, event_id: int, kinds: Sequence[str], condition: Any, detail: str) -> int:
    result = session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.event_id) == event_id,
            col(Delivery.kind).in_(kinds),
            col(Delivery.status) == DeliveryState.PENDING.value,
            condition,
        )
        .values(status=DeliveryState.SKIPPED.value, detail=detail, claimed_by=None, claimed_at=None)
    )
    return rowcount(result)


# --- broadcasts ------------------------------------------------------------------------------


def _broadcast_audience(target_kind: str, target_value: str) -> Any:
    """Reachable subscribers whose subscription names the district or sector (a SELECT of users)."""
    column = Subscription.district if target_kind == BroadcastTarget.DISTRICT else Subscription.sector
    return (
        sa.select(col(User.id), col(User.transport))
        .join(Subscription, col(Subscription.user_id) == col(User.id))
        .where(
            col(Subscription.active) == sa.true(),
            col(User.active) == sa.true(),
            col(column) == target_value,
        )
    )


def count_broadcast_recipients(session: Session, target_kind: str, target_value: str) -> int:
    audience = _broadcast_audience(target_kind, target_value).subquery()
    return int(session.execute(sa.select(sa.func.count()).select_from(audience)).scalar_one())


def enqueue_broadcast(session: Session, broadcast: Broadcast, now: dt.datetime) -> int:
    """Queues one delivery per recipient in the caller's transaction (one INSERT … SELECT, however
    many there are) and stores their number on the broadcast; returns it."""
    assert broadcast.id is not None
    table = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel's metaclass sets it
    audience = _broadcast_audience(broadcast.target_kind, broadcast.target_value).subquery()
    when = sa.literal(now, UTCDateTime())
    rows = sa.select(
        audience.c.id,
        sa.literal(broadcast.id, sa.Integer()),
        sa.literal(DeliveryKind.BROADCAST.value, sa.String()),
        sa.literal(0, sa.Integer()),
        audience.c.transport,
        sa.literal(DeliveryState.PENDING.value, sa.String()),
        when,
        sa.literal(0, sa.Integer()),
        sa.literal("", sa.String()),
        when,
    ).where(sa.true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    columns = ["user_id", "broadcast_id", "kind", "n", "transport", "status", "due_at", "attempts"]
    insert: Any = postgresql.insert if _is_pg(session) else sqlite.insert
    stmt = (
        insert(table)
        .from_select([*columns, "detail", "created_at"], rows)
        .on_conflict_do_nothing(index_elements=["user_id", "broadcast_id"])
        .returning(table.c.id)  # rowcount of INSERT … SELECT came back as -1 through psycopg
    )
    added = len(session.execute(stmt).all())
    broadcast.recipients = added
    session.add(broadcast)
    session.flush()
    return added


def broadcast_texts(session: Session, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        sa.select(col(Broadcast.id), col(Broadcast.text)).where(col(Broadcast.id).in_(list(ids)))
    ).all()
    return {int(i): text for i, text in rows}


# --- claiming --------------------------------------------------------------------------------


def claim_due(
    session: Session,
    *,
    transport: str,
    worker: str,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
    kinds: Collection[str] | None = None,
) -> list[Claimed]:
    """Takes up to `limit` due rows for this worker. On PostgreSQL rows another worker is claiming
    right now are skipped (not waited for); a claim older than `lease` counts as abandoned."""
    due = (
        select(Delivery.id)
        .where(
            col(Delivery.status) == DeliveryState.PENDING.value,
            col(Delivery.transport) == transport,
            col(Delivery.due_at) <= now,
            sa.or_(col(Delivery.claimed_at).is_(None), col(Delivery.claimed_at) < now - lease),
        )
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    )
    if kinds is not None:
        due = due.where(col(Delivery.kind).in_(list(kinds)))
    if _is_pg(session):
        due = due.with_for_update(skip_locked=True)
    claimed_ids = (
        session.execute(
            sa.update(Delivery)
            .where(col(Delivery.id).in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_at=now, attempts=col(Delivery.attempts) + 1)
            .returning(col(Delivery.id))
        )
        .scalars()
        .all()
    )
    if not claimed_ids:
        return []
    rows = session.execute(
        sa.select(
            Delivery,
            col(User.external_id),
            col(User.language),
            col(User.active),
            col(Subscription.active),
            col(Subscription.personal),
        )
        .join(User, col(User.id) == col(Delivery.user_id))
        .outerjoin(Subscription, col(Subscription.user_id) == col(Delivery.user_id))
        .where(col(Delivery.id).in_(claimed_ids))
        .order_by(col(Delivery.due_at), col(Delivery.id))
    ).all()
    return [
        Claimed(
            id=d.id,
            user_id=d.user_id,
            event_id=d.event_id,
            kind=d.kind,
            n=d.n,
            transport=d.transport,
            external_id=external_id,
            language=language,
            attempts=d.attempts,
            user_active=bool(user_active),
            subscribed=bool(sub_active),
            broadcast_id=d.broadcast_id,
            personal=bool(personal),
        )
        for d, external_id, language, user_active, sub_active, personal in rows
    ]


def release_claims(session: Session, worker: str | None = None) -> int:
    """Single-process start-up (SQLite): whatever was claimed before the restart is free again.
    With `worker`, only that worker's claims (a clean shutdown)."""
    stmt = sa.update(Delivery).where(
        col(Delivery.status) == DeliveryState.PENDING.value, col(Delivery.claimed_by).is_not(None)
    )
    if worker is not None:
        stmt = stmt.where(col(Delivery.claimed_by) == worker)
    result = session.execute(stmt.values(claimed_by=None, claimed_at=None))
    return rowcount(result)


def claim_owners(session: Session) -> list[str]:
    stmt = (
        select(Delivery.claimed_by)
        .where(col(Delivery.status) == DeliveryState.PENDING.value, col(Delivery.claimed_by).is_not(None))
        .distinct()
    )
    return [owner for owner in session.exec(stmt).all() if owner]


# --- outcomes ---------------------------------------------------------------------------------
# These run once per message: they take a plain Connection (or a Session) and issue one UPDATE,
# which is several times cheaper than a unit of work through the ORM.

Executor = sa.Connection | Session


def _finish(conn: Executor, delivery_id: int, **values: Any) -> None:
    conn.execute(
        sa.update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == DeliveryState.PENDING.value)
        .values(claimed_by=None, claimed_at=None, **values)
    )


def release(conn: Executor, delivery_id: int, due_at: dt.datetime) -> None:
    """Not sent and not an attempt (quiet hours began, the transport is paused): try again at `due_at`."""
    attempts = col(Delivery.attempts)
    _finish(conn, delivery_id, due_at=due_at, attempts=sa.case((attempts > 0, attempts - 1), else_=0))


def mark_sent(conn: Executor, delivery_id: int, now: dt.datetime) -> None:
    _finish(conn, delivery_id, status=DeliveryState.SENT.value, sent_at=now, detail="")


def mark_skipped(conn: Executor, delivery_id: int, detail: str) -> None:
    _finish(conn, delivery_id, status=DeliveryState.SKIPPED.value, detail=detail[:200])


def mark_failed(conn: Executor, delivery_id: int, detail: str) -> None:
    _finish(conn, delivery_id, status=DeliveryState.FAILED.value, detail=detail[:200])


def mark_retry(conn: Executor, delivery_id: int, attempts: int, due_at: dt.datetime, detail: str) -> bool:
    """Back to pending at `due_at`; after MAX_ATTEMPTS it fails for good. True if it will be retried."""
    if attempts >= MAX_ATTEMPTS:
        mark_failed(conn, delivery_id, f"gave up after {attempts} attempts: {detail}")
        return False
    _finish(conn, delivery_id, due_at=due_at, detail=detail[:200])
    return True


def mark_blocked(conn: Executor, delivery_id: int, user_id: int, now: dt.datetime) -> None:
    """The user blocked the bot: the user is inactive, the subscription ends, nothing queued is sent."""
    _finish(conn, delivery_id, status=DeliveryState.BLOCKED.value, detail="blocked by user")
    conn.execute(sa.update(User).where(col(User.id) == user_id).values(active=False))
    conn.execute(
        sa.update(Subscription)
        .where(col(Subscription.user_id) == user_id, col(Subscription.active) == sa.true())
        .values(active=False, ended_at=now, end_reason="blocked", updated_at=now)
    )
    conn.execute(
        sa.update(Delivery)
        .where(col(Delivery.user_id) == user_id, col(Delivery.status) == DeliveryState.PENDING.value)
        .values(status=DeliveryState.BLOCKED.value, detail="blocked by user", claimed_by=None)
    )


def counts(session: Session, event_id: int | None = None) -> Counts:
    stmt = select(Delivery.status, sa.func.count()).group_by(col(Delivery.status))
    if event_id is not None:
        stmt = stmt.where(col(Delivery.event_id) == event_id)
    return Counts({status: int(n) for status, n in session.exec(stmt).all()})


def next_due_at(session: Session, transports: Collection[str]) -> dt.datetime | None:
    """When the next pending row becomes due (for logs and tests)."""
    return session.exec(
        select(sa.func.min(Delivery.due_at)).where(
            col(Delivery.status) == DeliveryState.PENDING.value, col(Delivery.transport).in_(list(transports))
        )
    ).first()
