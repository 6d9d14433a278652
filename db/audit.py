"""Audit trail of admin actions (who, what, when) and anonymous statistics for partners."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from db.models import Profile, User
from db.types import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=300)  # "telegram:123", "cli:<os user>": who acted, kept after user deletion
    action: str = Field(max_length=60)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


def record(session: Session, actor: str, action: str, at: dt.datetime | None = None, **detail: Any) -> None:
    """`at` defaults to now; a caller that owns the clock (e.g. `knowledge verify`) passes it."""
    entry = AuditEntry(actor=actor[:300], action=action[:60], detail=detail)
    if at is not None:
        entry.at = at
    session.add(entry)


def recent(session: Session, limit: int = 50) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(sa.desc(col(AuditEntry.at))).limit(limit)).all())


def _counts(session: Session, column: Any) -> dict[str, int]:
    rows = session.execute(
        sa.select(column, sa.func.count())
        .where(column.is_not(None))
        .group_by(column)
        .order_by(sa.desc(sa.func.count()))
    ).all()
    return {str(k): int(n) for k, n in rows}


def statistics(session: Session) -> dict[str, Any]:
    """Aggregates only: no row here can be traced back to one person."""
    from db.schema import metadata

    stats: dict[str, Any] = {
        "users": session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one(),
        "active_users": session.execute(
            sa.select(sa.func.count()).select_from(User).where(col(User.active).is_(True))
        ).scalar_one(),
        "by_district": _counts(session, Profile.district),
        "by_situation": _counts(session, Profile.situation),
        "top_goals": dict(list(_counts(session, Profile.goal).items())[:5]),
    }
    for table_name, key in (("subscriptions", "subscriptions"), ("deliveries", "reminders_sent")):
        table = metadata.tables.get(table_name)
        if table is None:
            continue
        query = sa.select(sa.func.count()).select_from(table)
        if key == "subscriptions" and "active" in table.c:
            query = query.where(table.c.active.is_(True))
        if key == "reminders_sent" and "status" in table.c:
            query = query.where(table.c.status == "sent", table.c.kind != "broadcast")
        stats[key] = session.execute(query).scalar_one()
    return stats
