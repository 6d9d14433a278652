"""Runs a deferred course search: the database cache first, then the Weiterbildungssuche.

Called by the conversation service after a turn is stored and its per-user lock released, so a
slow API holds no transaction and no other turn of the user. The cache is read and written in
short transactions of their own (on PostgreSQL in a worker thread, like turns; on SQLite on the
loop, as turns are); the HTTP call itself is async and never blocks the event loop. Every failure
(API, cache, anything unexpected) ends as the one-line note of `render_unavailable`: the curated
offers the turn already produced stay as they are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from db import course_cache
from db.engine import session_scope
from handlers.courses import CourseRequest, render_courses, render_unavailable
from handlers.turn import Reply
from knowledge.courses.client import CourseClient, CourseSearchUnavailable
from knowledge.courses.model import CoursePage
from knowledge.courses.selection import SHOWN

log = logging.getLogger(__name__)
T = TypeVar("T")


class CourseLookup:
    def __init__(self, engine: sa.Engine, client: CourseClient, ttl: dt.timedelta) -> None:
        self.engine = engine
        self.client = client
        self.ttl = ttl
        self._on_loop = engine.dialect.name == "sqlite"

    async def _db(self, fn: Callable[[], T]) -> T:
        return fn() if self._on_loop else await asyncio.to_thread(fn)

    def _read(self, key: str, now: dt.datetime) -> tuple[CoursePage, dt.datetime] | None:
        with session_scope(self.engine) as session:
            page = course_cache.get_fresh(session, key, now, self.ttl)
            if page is None:
                return None
            row = session.get(course_cache.CourseCacheEntry, key)
            assert row is not None
            return page, row.fetched_at

    def _write(self, key: str, page: CoursePage, now: dt.datetime) -> None:
        with session_scope(self.engine) as session:
            course_cache.put(session, key, page, now, self.ttl)

    async def resolve(self, request: object) -> list[Reply]:
        assert isinstance(request, CourseRequest)
        key, now = request.query.cache_key(), request.at
        try:
            cached = await self._db(lambda: self._read(key, now))
        except sa.exc.SQLAlchemyError:
            log.warning("course cache unreadable; asking the API")
            cached = None
        if cached is not None:
            return render_courses(request, *cached)
        try:
            page = await self.client.search(request.query, want=SHOWN, keep=request.keep)
        except CourseSearchUnavailable as exc:
            log.warning("course search unavailable: %s", exc.reason)
            return render_unavailable(request)
        try:
            await self._db(lambda: self._write(key, page, now))
        except sa.exc.SQLAlchemyError:
            log.warning("course cache not written; the answer is shown anyway")
        return render_courses(request, page, now)
