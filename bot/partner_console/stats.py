"""Anonymous statistics for partners: counts only, and no cell under five is shown.

A small count next to a district and a week can point to one person; such cells are replaced by
"< 5" in the page, the chart and the CSV alike (MIN_CELL). All numbers come from aggregates over
profiles, subscriptions and the outbox; nothing here reads a message or a user id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from db.event_models import Delivery, Subscription
from db.models import Profile
from db.offer_store import read_offer_base
from handlers.catalogue import t
from knowledge.matching import Profile as MatchProfile
from knowledge.matching import rank
from knowledge.schema import Scope
from knowledge.vocabulary import REGION_DISTRICTS, District, Goal, Sector, Situation

MIN_CELL = 5
HIDDEN = "< 5"
WEEKS = 8


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # first column a label, the others counts as text (or HIDDEN)
    chart: tuple[tuple[str, int], ...] = ()  # (label, count) of shown cells only, for the bar chart


def cell(n: int) -> str:
    return str(n) if n >= MIN_CELL else HIDDEN


def _label(kind: str, code: str | None) -> str:
    return t("de", f"{kind}.{code}") if code else "unbekannt"


def _counts(session: Session, column: Any, kind: str, key: str, title: str) -> Table:
    column = col(column)
    rows = session.execute(
        sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)
    ).all()
    data = sorted(((_label(kind, str(k)), int(n)) for k, n in rows), key=lambda x: -x[1])
    return Table(
        key,
        title,
        ("Wert", "Anzahl"),
        tuple((lbl, cell(n)) for lbl, n in data),
        tuple((lbl, n) for lbl, n in data if n >= MIN_CELL),
    )


def per_week(session: Session, now: dt.datetime, tz: ZoneInfo) -> Table:
    """Conversations (profiles last active) per calendar week and district, the last WEEKS weeks."""
    since = now - dt.timedelta(weeks=WEEKS)
    rows = session.exec(
        select(Profile.updated_at, Profile.district).where(col(Profile.updated_at) >= since)
    ).all()
    counter: Counter[tuple[str, str]] = Counter()
    for at, district in rows:
        year, week, _ = at.astimezone(tz).isocalendar()
        counter[(f"{year}-KW{week:02d}", _label("district", district))] += 1
    weeks = sorted({w for w, _ in counter})
    districts = sorted({d for _, d in counter})
    table_rows = tuple((w, *(cell(counter[(w, d)]) for d in districts)) for w in weeks)
    totals = Counter[
        str
    ]()  # the chart sums shown cells only: a total would reveal hidden ones by subtraction
    for (w, _), n in counter.items():
        if n >= MIN_CELL:
            totals[w] += n
    return Table(
        "wochen",
        "Gespräche pro Woche nach Landkreis",
        ("Woche", *districts),
        table_rows,
        tuple((w, totals[w]) for w in weeks if totals[w]),
    )


def subscriptions(session: Session) -> Table:
    rows = session.execute(
        sa.select(col(Subscription.active), sa.func.count()).group_by(col(Subscription.active))
    ).all()
    data = {bool(a): int(n) for a, n in rows}
    pairs = (("aktiv", data.get(True, 0)), ("beendet", data.get(False, 0)))
    return Table(
        "abos",
        "Termin-Abos",
        ("Stand", "Anzahl"),
        tuple((k, cell(n)) for k, n in pairs),
        tuple(p for p in pairs if p[1] >= MIN_CELL),
    )


def deliveries(session: Session) -> Table:
    names = {
        "sent": "gesendet",
        "failed": "fehlgeschlagen",
        "blocked": "blockiert",
        "pending": "ausstehend",
        "skipped": "übersprungen",
    }
    kinds = {"reminder": "Erinnerung", "change": "Änderung", "cancel": "Absage", "broadcast": "Rundnachricht"}
    rows = session.execute(
        sa.select(col(Delivery.kind), col(Delivery.status), sa.func.count()).group_by(
            col(Delivery.kind), col(Delivery.status)
        )
    ).all()
    data = sorted(((kinds.get(k, k), names.get(s, s), int(n)) for k, s, n in rows))
    return Table(
        "nachrichten",
        "Erinnerungen und Hinweise: gesendet und fehlgeschlagen",
        ("Art", "Status", "Anzahl"),
        tuple((k, s, cell(n)) for k, s, n in data),
        tuple((f"{k}: {s}", n) for k, s, n in data if n >= MIN_CELL),
    )


def demand_gaps(session: Session) -> Table:
    """What people asked for that found no regional offer: per goal and district, the conversations
    whose answers (situation, district, goal) the matcher serves only with federal or state offers,
    or not at all – the network's gaps. Computed from stored profiles and the current offer base."""
    offers = read_offer_base(session).offers
    rows = session.exec(
        select(Profile.situation, Profile.district, Profile.goal, Profile.sector).where(
            col(Profile.situation).is_not(None),
            col(Profile.district).is_not(None),
            col(Profile.goal).is_not(None),
        )
    ).all()
    counter: Counter[tuple[str, str]] = Counter()
    regional = {d.value for d in REGION_DISTRICTS}
    for situation, district, goal, sector in rows:
        if district not in regional or situation is None or goal is None:
            continue
        try:
            wanted = MatchProfile(
                Situation(situation), District(district), Sector(sector) if sector else None, Goal(goal)
            )
        except ValueError:
            continue
        if not any(m.offer.scope is Scope.REGION for m in rank(offers, wanted)):
            counter[(_label("goal", goal), _label("district", district))] += 1
    data = sorted(counter.items(), key=lambda x: -x[1])
    return Table(
        "luecken",
        "Gefragt, aber kein regionales Angebot (Ziel und Landkreis)",
        ("Ziel", "Landkreis", "Anzahl"),
        tuple((g, d, cell(n)) for (g, d), n in data),
        tuple((f"{g} – {d}", n) for (g, d), n in data if n >= MIN_CELL),
    )


def all_tables(session: Session, now: dt.datetime, tz: ZoneInfo) -> list[Table]:
    return [
        per_week(session, now, tz),
        _counts(session, Profile.district, "district", "landkreise", "Gespräche nach Landkreis"),
        _counts(session, Profile.situation, "situation", "situationen", "Gespräche nach Lebenslage"),
        _counts(session, Profile.goal, "goal", "ziele", "Gespräche nach Ziel"),
        demand_gaps(session),
        subscriptions(session),
        deliveries(session),
    ]


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return out.getvalue()
