"""Event features: /termine (events for my profile), /abo and /stop (reminder subscription).

Feature handlers run inside the conversation's transaction and answer with replies only; time is
the turn's timestamp, so everything here is testable without a clock. The same rendering builds
the reminders and notices the dispatcher sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypedDict
from zoneinfo import ZoneInfo

from db import events as repo
from db.event_models import DeliveryKind, Event, Subscription
from handlers.catalogue import t
from handlers.dates import date_text, time_text, weekday_text
from handlers.features import FeatureContext, FeatureRegistry
from handlers.ics import ics_attachment
from handlers.turn import Link, Option, Reply
from knowledge.events import Topic

PAGE_SIZE = 5
SUBSCRIBE_OPTION = ("abo:start", "option.subscribe")


# --- rendering (shared with the reminder dispatcher) -------------------------------------------


def when_text(lang: str, event: Event, tz: ZoneInfo) -> str:
    start = event.starts_at.astimezone(tz)
    params: dict[str, str] = {
        "weekday": weekday_text(lang, start),
        "date": date_text(lang, start),
        "start": time_text(lang, start),
    }
    if event.ends_at is None:
        return t(lang, "events.when", **params)
    end = event.ends_at.astimezone(tz)
    if end.date() == start.date():
        return t(lang, "events.when_range", end=time_text(lang, end), **params)
    return t(
        lang,
        "events.when_days",
        end_weekday=weekday_text(lang, end),
        end_date=date_text(lang, end),
        end=time_text(lang, end),
        **params,
    )


def where_text(lang: str, event: Event) -> str:
    if event.place and event.online_url:
        return t(lang, "events.where_both", place=event.place, url=event.online_url)
    if event.online_url:
        return t(lang, "events.where_online", url=event.online_url)
    return t(lang, "events.where_place", place=event.place or "")


def event_text(
    lang: str, event: Event, organiser: str | None, tz: ZoneInfo, *, show_status: bool = True
) -> str:
    lines = [
        t(
            lang,
            "events.card",
            title=event.title,
            when=when_text(lang, event, tz),
            where=where_text(lang, event),
        )
    ]
    if organiser:
        lines.append(t(lang, "events.organiser", organiser=organiser))
    if show_status and event.status in ("changed", "cancelled"):
        lines.append(t(lang, f"events.status.{event.status}"))
    if event.example:
        lines.append(t(lang, "events.example_note"))
    return "\n".join(lines)


def event_links(lang: str, event: Event) -> tuple[Link, ...]:
    if event.registration_url and event.status != "cancelled":
        return (Link(t(lang, "link.register"), event.registration_url),)
    return ()


def event_reply(lang: str, event: Event, organiser: str | None, tz: ZoneInfo) -> Reply:
    return Reply(
        event_text(lang, event, organiser, tz),
        options=(Option(f"ev:ics:{event.id}", t(lang, "option.ics")),),
        links=event_links(lang, event),
    )


def delivery_reply(
    lang: str,
    prefix: str,
    event: Event,
    organiser: str | None,
    kind: str,
    now: dt.datetime,
    tz: ZoneInfo,
) -> Reply:
    """The one message of a reminder or notice: what happened, the event, how to unsubscribe."""
    if kind == DeliveryKind.CANCEL:
        head = t(lang, "reminder.cancelled")
    elif kind == DeliveryKind.CHANGE:
        head = t(lang, "reminder.changed")
    else:
        days = (event.starts_at.astimezone(tz).date() - now.astimezone(tz).date()).days
        if days <= 0:
            head = t(lang, "reminder.today")
        elif days == 1:
            head = t(lang, "reminder.tomorrow")
        else:
            head = t(lang, "reminder.days", n=days)
    text = "\n\n".join(
        [
            head,
            event_text(lang, event, organiser, tz, show_status=kind == DeliveryKind.REMINDER),
            t(lang, "reminder.footer", p=prefix),
        ]
    )
    options: tuple[Option, ...] = ()
    if kind != DeliveryKind.CANCEL:
        options = (Option(f"ev:ics:{event.id}", t(lang, "option.ics")),)
    options += (Option("abo:stop", t(lang, "option.abo_stop")),)
    return Reply(text, options=options, links=event_links(lang, event))


def broadcast_reply(lang: str, prefix: str, text: str) -> Reply:
    """An admin's broadcast as sent: their words unchanged, then why it came and how to unsubscribe."""
    body = "\n\n".join([text.strip(), t(lang, "broadcast.footer", p=prefix)])
    return Reply(body, options=(Option("abo:stop", t(lang, "option.abo_stop")),))


def leads_text(lang: str, leads: Sequence[dt.timedelta]) -> str:
    parts = []
    for lead in leads:
        minutes = int(lead.total_seconds() // 60)
        if minutes % (24 * 60) == 0:
            n, one, many = minutes // (24 * 60), "abo.lead.day", "abo.lead.days"
        elif minutes % 60 == 0:
            n, one, many = minutes // 60, "abo.lead.hour", "abo.lead.hours"
        else:
            n, one, many = minutes, "abo.lead.minutes", "abo.lead.minutes"
        parts.append(t(lang, one) if n == 1 else t(lang, many, n=n))
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + t(lang, "abo.and") + parts[-1]


# --- context helpers -------------------------------------------------------------------------


class _Profile(TypedDict):
    situation: str | None
    district: str | None
    sector: str | None


def _profile(ctx: FeatureContext) -> _Profile:
    s = ctx.state
    return {
        "situation": s.situation.value if s.situation else None,
        "district": s.district.value if s.district else None,
        "sector": s.sector.value if s.sector else None,
    }


def _profile_text(
    ctx: FeatureContext, situation: str | None, district: str | None, sector: str | None
) -> str:
    parts = []
    if situation:
        parts.append(ctx.t(f"situation.{situation}"))
    if district:
        parts.append(ctx.t(f"district.{district}"))
    if sector:
        parts.append(ctx.t(f"sector.{sector}"))
    return ", ".join(parts) if parts else ctx.t("abo.profile_all")


def _timing(ctx: FeatureContext) -> dict[str, str]:
    leads, quiet = ctx.settings.lead_times, ctx.settings.quiet
    quiet_text = (
        ctx.t("abo.quiet", start=time_text(ctx.lang, quiet[0]), end=time_text(ctx.lang, quiet[1]))
        if quiet
        else ""
    )
    return {"leads": leads_text(ctx.lang, leads), "quiet": quiet_text}


def _organisers(ctx: FeatureContext, events: Sequence[Event]) -> dict[str, str]:
    names = repo.organiser_names(ctx.session, events)
    for ident in list(names):
        inst = ctx.kb.institutions.get(ident)
        if inst is not None:
            names[ident] = inst.name
    return names


def _subscription(ctx: FeatureContext) -> Subscription | None:
    """The active subscription. One made in a private chat that is shared now (a Matrix room with
    a newcomer, not yet noticed by the transport) is paused here too and shown to nobody."""
    assert ctx.user.id is not None
    sub = repo.get_subscription(ctx.session, ctx.user.id)
    if sub is None or not sub.active:
        return None
    if sub.personal and not ctx.private:
        repo.pause_personal_subscription(ctx.session, ctx.user.id, ctx.turn.at)
        return None
    return sub


def _option_parts(option_id: str) -> tuple[str, str, str]:
    """'abo:t:foerderung' -> ('abo', 't', 'foerderung'); missing parts are empty."""
    prefix, _, rest = option_id.partition(":")
    action, _, arg = rest.partition(":")
    return prefix, action, arg


# --- /termine --------------------------------------------------------------------------------


def show_events(ctx: FeatureContext, page: int = 0) -> list[Reply]:
    profile = _profile(ctx)
    events = repo.upcoming_for_profile(ctx.session, ctx.turn.at, **profile)
    subscribed = _subscription(ctx) is not None
    footer_options: list[Option] = []
    if not events:
        replies = [Reply(ctx.t("events.none"))]
    else:
        page = min(page, (len(events) - 1) // PAGE_SIZE)
        first = page * PAGE_SIZE
        shown = events[first : first + PAGE_SIZE]
        header = "events.header" if any(profile.values()) else "events.header_all"
        replies = [Reply(ctx.t(header, first=first + 1, last=first + len(shown), total=len(events)))]
        names = _organisers(ctx, shown)
        tz = ctx.settings.tz
        replies += [event_reply(ctx.lang, e, names.get(e.organiser or ""), tz) for e in shown]
        if first + PAGE_SIZE < len(events):
            footer_options.append(Option(f"ev:page:{page + 1}", ctx.t("option.events_more")))
    if subscribed:
        footer = ctx.t("events.footer_subscribed")
        footer_options.append(Option("abo:show", ctx.t("option.subscription")))
    else:
        footer = ctx.t("events.footer")
        footer_options.append(Option("abo:start", ctx.t("option.subscribe")))
    replies.append(Reply(footer, options=tuple(footer_options), question=True))
    return replies


def event_option(ctx: FeatureContext) -> list[Reply]:
    _, action, arg = _option_parts(ctx.turn.option_id)
    if action == "page" and arg.isdigit():
        return show_events(ctx, int(arg))
    if action == "ics" and arg.isdigit():
        event = ctx.session.get(Event, int(arg))
        if event is not None:
            return [
                Reply(
                    ctx.t("events.ics_caption", title=event.title),
                    attachment=ics_attachment(event, ctx.turn.at),
                )
            ]
    return [Reply(ctx.t("events.unknown"))]


# --- /abo and /stop --------------------------------------------------------------------------


def _view(ctx: FeatureContext, sub: Subscription, lead: str | None = None) -> list[Reply]:
    chosen = set(sub.topics or ())
    topics = ", ".join(ctx.t(f"topic.{code}") for code in sub.topics) if chosen else ctx.t("abo.topics_all")
    text = ctx.t(
        "abo.view",
        profile=_profile_text(ctx, sub.situation, sub.district, sub.sector),
        topics=topics,
        **_timing(ctx),
    )
    options = [
        Option(
            f"abo:t:{topic.value}",
            ctx.t("option.abo_topic_on", label=ctx.t(f"topic.{topic.value}"))
            if topic.value in chosen
            else ctx.t(f"topic.{topic.value}"),
        )
        for topic in Topic
    ]
    if chosen:
        options.append(Option("abo:t:all", ctx.t("option.abo_all_topics")))
    current = _profile(ctx)
    if any(current.values()) and current != {
        "situation": sub.situation,
        "district": sub.district,
        "sector": sub.sector,
    }:
        options.append(Option("abo:sync", ctx.t("option.abo_sync")))
    options.append(Option("abo:stop", ctx.t("option.abo_stop")))
    replies = [Reply(ctx.t(lead))] if lead else []
    replies.append(Reply(text, options=tuple(options), question=True))
    return replies


def _offer(ctx: FeatureContext) -> list[Reply]:
    profile = _profile(ctx)
    text = ctx.t("abo.offer", profile=_profile_text(ctx, **profile), **_timing(ctx))
    replies = [
        Reply(
            text,
            options=(Option("abo:start", ctx.t("option.abo_yes")), Option("abo:no", ctx.t("option.abo_no"))),
            question=True,
        )
    ]
    if not any(profile.values()):
        replies.insert(0, Reply(ctx.t("abo.offer_no_profile")))
    return replies


def manage_subscription(ctx: FeatureContext) -> list[Reply]:
    sub = _subscription(ctx)
    return _view(ctx, sub) if sub is not None else _offer(ctx)


def _start(ctx: FeatureContext) -> list[Reply]:
    assert ctx.user.id is not None
    _subscription(ctx)  # a personal one seen from a shared chat pauses before a new one starts
    sub, _ = repo.subscribe(ctx.session, ctx.user.id, ctx.turn.at, personal=ctx.private, **_profile(ctx))
    replies = _view(ctx, sub, "abo.done")
    upcoming = repo.upcoming_for_profile(
        ctx.session,
        ctx.turn.at,
        district=sub.district,
        sector=sub.sector,
        situation=sub.situation,
        topics=sub.topics,
    )
    if len(upcoming) == 1:
        replies.insert(1, Reply(ctx.t("abo.upcoming_one")))
    elif upcoming:
        replies.insert(1, Reply(ctx.t("abo.upcoming", count=len(upcoming))))
    return replies


def _toggle(ctx: FeatureContext, sub: Subscription, code: str) -> list[Reply]:
    if code == "all":
        sub.topics = []
    elif code in {t.value for t in Topic}:
        chosen = list(sub.topics or ())
        chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
        # in catalogue order, so the view does not reshuffle
        sub.topics = [t.value for t in Topic if t.value in chosen]
    sub.updated_at = ctx.turn.at
    ctx.session.add(sub)
    return _view(ctx, sub)


def stop(ctx: FeatureContext) -> list[Reply]:
    assert ctx.user.id is not None
    if repo.end_subscription(ctx.session, ctx.user.id, ctx.turn.at, "stop"):
        return [Reply(ctx.t("abo.ended"))]
    return [Reply(ctx.t("abo.none"))]


def subscription_option(ctx: FeatureContext) -> list[Reply]:
    _, action, arg = _option_parts(ctx.turn.option_id)
    if action == "start":
        return _start(ctx)
    if action == "no":
        return [Reply(ctx.t("abo.declined"))]
    if action == "stop":
        return stop(ctx)
    sub = _subscription(ctx)
    if sub is None:
        return _offer(ctx)
    if action == "t":
        return _toggle(ctx, sub, arg)
    if action == "sync":
        profile = _profile(ctx)
        sub.situation, sub.district, sub.sector = profile["situation"], profile["district"], profile["sector"]
        sub.updated_at = ctx.turn.at
        ctx.session.add(sub)
        return _view(ctx, sub, "abo.updated")
    return _view(ctx, sub)


def register(registry: FeatureRegistry) -> None:
    registry.command("termine")(show_events)
    registry.command("abo")(manage_subscription)
    registry.command("stop", "abmelden")(stop)
    registry.options("ev")(event_option)
    registry.options("abo")(subscription_option)
    registry.result_extra(*SUBSCRIBE_OPTION)
