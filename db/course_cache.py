"""The course search cache: one row per normalised query, with the time it was fetched.

The same search within `COURSE_CACHE_TTL` is answered from here, so a busy day asks the
Bundesagentur's API once per query and place rather than once per person. Rows hold the mapped
courses of the project's own model (JSON) and no user: a query key names a keyword, a
municipality's coordinates and the filters. Writing a row also drops rows older than the TTL, so
the table stays small without a separate job. `now` is always passed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Field, Session, SQLModel, col, delete

from db.types import UTCDateTime
from knowledge.courses.model import CoursePage


class CourseCacheEntry(SQLModel, table=True):
    __tablename__ = "course_cache"

    query_key: str = Field(primary_key=True, max_length=255)
    fetched_at: dt.datetime = Field(sa_type=UTCDateTime)
    page: dict[str, Any] = Field(sa_type=sa.JSON)


def get_fresh(session: Session, key: str, now: dt.datetime, ttl: dt.timedelta) -> CoursePage | None:
    row = session.get(CourseCacheEntry, key)
    if row is None or now - row.fetched_at >= ttl or row.fetched_at > now + dt.timedelta(minutes=5):
        return None
    try:
        return CoursePage.model_validate(row.page)
    except ValidationError:
        return None  # written by an older version: ask again


def put(session: Session, key: str, page: CoursePage, now: dt.datetime, ttl: dt.timedelta) -> None:
    session.exec(delete(CourseCacheEntry).where(col(CourseCacheEntry.fetched_at) < now - ttl))
    session.merge(CourseCacheEntry(query_key=key, fetched_at=now, page=page.model_dump(mode="json")))
