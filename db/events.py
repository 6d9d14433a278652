"""Events and subscriptions: import by uid, the profile filter, subscribe and unsubscribe.

Import is idempotent by uid: equal content changes nothing, a changed event is updated in place,
and a change people must hear about (time, place, cancellation) bumps `notice_seq`, which the
reminder planner turns into one notice per recipient — a second change is a new notice again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from db.event_models import Delivery, DeliveryState, Event, Subscription
from db.models import InstitutionRecord, Profile, User
from knowledge.events import EventIn, EventStatus, as_list, event_fits


@dataclass(frozen=True)
class EventImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    notices: int = 0  # events whose time/place changed or that were cancelled: recipients are told


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What the planner needs of an active subscription (of an active user)."""

    user_id: int
    transport: str
    subscribed_at: dt.datetime
    district: str | None
    sector: str | None
    situation: str | None
    topics: tuple[str, ...]


# --- events ----------------------------------------------------------------------------------


def _material(event: Event) -> tuple[object, ...]:
    return (event.starts_at, event.ends_at, event.place, event.online_url, event.status == "cancelled")


def _apply(event: Event, data: EventIn, source: str) -> None:
    event.title = data.title
    event.description = data.description
    event.starts_at = data.start
    event.ends_at = data.end
    event.place = data.place
    event.online_url = str(data.online_url) if data.online_url else None
    event.districts = as_list(data.districts)
    event.sectors = as_list(data.sectors)
    event.audiences = as_list(data.audiences)
    event.topics = [t.value for t in data.topics]
    event.organiser = data.organiser
    event.registration_url = str(data.registration_url) if data.registration_url else None
    event.example = data.example
    event.content_hash = data.content_hash()
    event.source = source


def unsaved_event(data: EventIn) -> Event:
    """An event row built from validated input but never added to a session: a preview before saving
    shows exactly what the stored event will show."""
    event = Event(uid=data.id, title=data.title, starts_at=data.start, content_hash="")
    _apply(event, data, source="preview")
    return event


def upsert_events(
    session: Session, events: Sequence[EventIn], now: dt.datetime, source: str = "yaml"
) -> EventImportReport:
    """Insert or update by uid within the caller's transaction (all or nothing)."""
    added = updated = unchanged = notices = 0
    for data in events:
        stmt = select(Event).where(Event.uid == data.id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        event = session.exec(stmt).first()
        if event is None:
            event = Event(
                uid=data.id,
                title=data.title,
                starts_at=data.start,
                content_hash="",
                created_at=now,
                updated_at=now,
            )
            _apply(event, data, source)
            event.status = (
                EventStatus.CANCELLED.value
                if data.status is EventStatus.CANCELLED
                else EventStatus.PLANNED.value
            )
            session.add(event)
            added += 1
            continue
        if event.content_hash == data.content_hash():
            unchanged += 1
            continue
        before = _material(event)
        _apply(event, data, source)
        if data.status is EventStatus.CANCELLED:
            event.status = EventStatus.CANCELLED.value
        elif event.status == EventStatus.CANCELLED.value or before != _material(event):
            event.status = EventStatus.CHANGED.value  # moved, or takes place after all
        elif data.status is EventStatus.CHANGED:
            event.status = EventStatus.CHANGED.value
        if before != _material(event):
            event.notice_seq += 1
            event.changed_at = now
            notices += 1
        event.updated_at = now
        session.add(event)
        updated += 1
    session.flush()
    return EventImportReport(added, updated, unchanged, notices)


def cancel_event(session: Session, event: Event, now: dt.datetime) -> bool:
    """Cancel once; subscribers and everyone already reminded get a notice. False if already cancelled."""
    if event.status == EventStatus.CANCELLED.value:
        return False
    event.status = EventStatus.CANCELLED.value
    event.notice_seq += 1
    event.changed_at = now
    event.updated_at = now
    session.add(event)
    session.flush()
    return True


def find_event(session: Session, ident: str) -> Event | None:
    """By numeric id (as shown in lists and option ids) or by uid."""
    if ident.isdigit():
        event = session.get(Event, int(ident))
        if event is not None:
            return event
    return session.exec(select(Event).where(Event.uid == ident)).first()


def list_events(session: Session, after: dt.datetime | None = None) -> list[Event]:
    stmt = select(Event)
    if after is not None:
        stmt = stmt.where(Event.starts_at > after)
    return list(session.exec(stmt.order_by(col(Event.starts_at), col(Event.id))).all())


def event_suits(
    event: Event,
    *,
    district: str | None,
    sector: str | None,
    situation: str | None,
    topics: Sequence[str] = (),
) -> bool:
    return event_fits(
        districts=event.districts,
        sectors=event.sectors,
        audiences=event.audiences,
        topics=event.topics,
        district=district,
        sector=sector,
        situation=situation,
        wanted_topics=topics,
    )


def has_real_events(session: Session) -> bool:
    """True once any event that is not a bundled example is stored: from then on examples are hidden
    from users (lists and reminders), so a production database never shows a made-up date."""
    return session.exec(select(Event.id).where(col(Event.example).is_(False)).limit(1)).first() is not None


def upcoming_for_profile(
    session: Session,
    now: dt.datetime,
    *,
    district: str | None,
    sector: str | None,
    situation: str | None,
    topics: Sequence[str] = (),
) -> list[Event]:
    """Upcoming, not cancelled events that suit the profile, soonest first (no examples next to real ones)."""
    stmt = (
        select(Event)
        .where(Event.starts_at > now, Event.status != EventStatus.CANCELLED.value)
        .order_by(col(Event.starts_at), col(Event.id))
    )
    if has_real_events(session):
        stmt = stmt.where(col(Event.example).is_(False))
    return [
        e
        for e in session.exec(stmt).all()
        if event_suits(e, district=district, sector=sector, situation=situation, topics=topics)
    ]


def organiser_names(session: Session, events: Sequence[Event]) -> dict[str, str]:
    """Institution id -> display name; an organiser that is not a known id is shown as written."""
    ids = {e.organiser for e in events if e.organiser}
    if not ids:
        return {}
    rows = session.exec(select(InstitutionRecord).where(col(InstitutionRecord.id).in_(ids))).all()
    names = {r.id: r.name for r in rows}
    return {i: names.get(i, i) for i in ids}


# --- subscriptions ---------------------------------------------------------------------------


def get_subscription(session: Session, user_id: int) -> Subscription | None:
    return session.exec(select(Subscription).where(Subscription.user_id == user_id)).first()


def subscribe(
    session: Session,
    user_id: int,
    now: dt.datetime,
    *,
    situation: str | None,
    district: str | None,
    sector: str | None,
    personal: bool = False,
) -> tuple[Subscription, bool]:
    """Creates or re-activates the user's subscription with a copy of the profile.

    Returns (subscription, created_now); an active subscription is returned unchanged.
    Re-subscribing counts as new: lead times already past are not sent afterwards. `personal`:
    subscribed in a private chat, so its messages are for that one person only.
    """
    sub = get_subscription(session, user_id)
    if sub is not None and sub.active:
        return sub, False
    if sub is None:
        sub = Subscription(user_id=user_id, subscribed_at=now, updated_at=now)
    sub.active = True
    sub.subscribed_at = now
    sub.updated_at = now
    sub.ended_at = None
    sub.end_reason = None
    sub.personal = personal
    sub.situation, sub.district, sub.sector = situation, district, sector
    session.add(sub)
    session.flush()
    return sub, True


def profile_values(profile: Profile | None) -> dict[str, str | None]:
    """The stored profile as the keyword arguments of `subscribe`."""
    return {
        "situation": profile.situation if profile else None,
        "district": profile.district if profile else None,
        "sector": profile.sector if profile else None,
    }


def end_subscription(session: Session, user_id: int, now: dt.datetime, reason: str = "stop") -> bool:
    """Ends it and drops what is still queued for the user; False if there was none to end."""
    sub = get_subscription(session, user_id)
    if sub is None or not sub.active:
        return False
    sub.active = False
    sub.ended_at = now
    sub.end_reason = reason
    sub.updated_at = now
    session.add(sub)
    session.execute(
        sa.update(Delivery)
        .where(col(Delivery.user_id) == user_id, col(Delivery.status) == DeliveryState.PENDING.value)
        .values(status=DeliveryState.SKIPPED.value, detail="subscription ended", claimed_by=None)
    )
    session.flush()
    return True


def pause_personal_subscription(session: Session, user_id: int, now: dt.datetime) -> bool:
    """The chat it was made in is no longer private: a personal subscription ends ("shared") and
    nothing queued is sent; True if there was one. It stays ended until the person subscribes
    again, see bot/matrix/sharing.py for why it does not resume by itself."""
    sub = get_subscription(session, user_id)
    if sub is None or not sub.active or not sub.personal:
        return False
    return end_subscription(session, user_id, now, reason="shared")


def active_subscribers(session: Session) -> list[Subscriber]:
    stmt = (
        select(Subscription, User.transport)
        .join(User, col(User.id) == col(Subscription.user_id))
        .where(Subscription.active == sa.true(), User.active == sa.true())
    )
    return [
        Subscriber(
            user_id=sub.user_id,
            transport=transport,
            subscribed_at=sub.subscribed_at,
            district=sub.district,
            sector=sub.sector,
            situation=sub.situation,
            topics=tuple(sub.topics or ()),
        )
        for sub, transport in session.exec(stmt).all()
    ]


def subscriber_suits(event: Event, sub: Subscriber) -> bool:
    return event_suits(
        event, district=sub.district, sector=sub.sector, situation=sub.situation, topics=sub.topics
    )


def matching_subscribers(session: Session, event: Event) -> list[Subscriber]:
    return [s for s in active_subscribers(session) if subscriber_suits(event, s)]
