"""Runs one turn: load state from the database, step the dialog or a feature, store, return replies.

This is the only place where transports, dialog and database meet. Turns of one user are
serialised (an asyncio lock here, a row lock on PostgreSQL across processes); different users
run concurrently. Faults become a friendly reply, never a traceback to the user.

Where a turn runs: on PostgreSQL in a worker thread, so network round trips and row-lock waits
never stall the event loop; in a pool of its own with DB_THREADS threads, not asyncio's default
executor (up to 32): with many threads, turns that finish their round trips together fight the
event loop for the GIL: with 50 users at once that cost 2.3–2.6 times the CPU per update of a
bare PTB bot; in the same runs (bench/dialog.py on PostgreSQL, medians of 5 paired rounds) two
threads cost 1.71, one thread 1.44. One thread it is: a turn holds a user's row lock only for its
own database work and dialog step (no other network), so a lock wait behind another process's turn
of the same user is that short turn, not a stall. On SQLite directly on the
event loop: a turn there is about half a millisecond of CPU under the GIL with no network in
between, and handing it to a thread and back cost more CPU than the turn's database work itself
(bench/dialog.py). The price: while another process holds SQLite's write lock, the loop
waits with the turn.

Network work a turn asks for (the live course search) is *deferred*: a feature handler or a
dialog follow-up returns a request object, and `handle` resolves it with the resolver registered
for its type only after the turn is stored and the per-user lock is released. A slow API thus
holds no transaction and no lock; the replies of the search are appended to the turn's replies.

The offer base can be replaced while the service runs (`use_knowledge`, called by
bot/offer_refresh.py after a partner's edit): the knowledge base, the dialog context built on it
and its revision are one immutable object swapped by a single assignment, and a turn takes that
object once when it starts, so it answers wholly from the old or wholly from the new base.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from bot.flood import FloodGuard
from bot.keyed_locks import KeyedLocks
from db import users
from db.engine import session_scope
from db.models import User
from handlers import dialog
from handlers.catalogue import normalise_language, t
from handlers.feature_settings import FeatureSettings
from handlers.features import FeatureContext, FeatureRegistry, FollowupContext, is_admin
from handlers.ownership import bind_person, carry_over, run_feature
from handlers.state import ConversationState
from handlers.turn import Reply, Turn
from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)
Resolver = Callable[[object], Awaitable[list[Reply]]]
DB_THREADS = 1  # PostgreSQL turns at once per process (see the module docstring)


@dataclass(frozen=True)
class LoadedKnowledge:
    """What one turn answers from; replaced as a whole, never changed in place."""

    kb: KnowledgeBase
    dialog_ctx: dialog.DialogContext
    revision: int | None  # the database's offer base revision it was read at (None: not from the database)


class ConversationService:
    def __init__(
        self,
        engine: sa.Engine,
        kb: KnowledgeBase,
        settings: FeatureSettings | None = None,
        features: FeatureRegistry | None = None,
        command_prefixes: Mapping[str, str] | None = None,
        resolvers: Mapping[type, Resolver] | None = None,
        offer_revision: int | None = None,
    ) -> None:
        if command_prefixes is None:
            from bot.transports import command_prefixes as registered  # late: it imports the transports

            command_prefixes = registered()
        self.engine = engine
        self.settings = settings or FeatureSettings()
        self.features = features or FeatureRegistry()
        self.command_prefixes = command_prefixes
        self.resolvers = dict(resolvers or {})  # request type -> async resolver (e.g. the course search)
        self.knowledge = self._loaded(kb, offer_revision)
        self.flood = FloodGuard(self.settings.flood_max_messages, self.settings.flood_window_seconds)
        self._locks = KeyedLocks()
        self._on_loop = engine.dialect.name == "sqlite"
        # set by `bildungslotse run` to count turns for /metrics (bot.web.metrics.observe_turn); the
        # console leaves it unset and never imports prometheus-client
        self.observe: Callable[[Turn, float], None] | None = None
        self._db_threads = (
            None if self._on_loop else ThreadPoolExecutor(DB_THREADS, thread_name_prefix="turn")
        )

    def _loaded(self, kb: KnowledgeBase, revision: int | None) -> LoadedKnowledge:
        ctx = dialog.DialogContext(
            kb=kb, result_extras=tuple(self.features.result_extras), command_prefix=self.command_prefixes
        )
        return LoadedKnowledge(kb, ctx, revision)

    def use_knowledge(self, kb: KnowledgeBase, revision: int | None) -> None:
        """Turns that start from now on answer from `kb`; turns already running finish on the old one."""
        self.knowledge = self._loaded(kb, revision)  # one assignment: atomic for every reader

    @property
    def kb(self) -> KnowledgeBase:
        return self.knowledge.kb

    async def handle(self, turn: Turn) -> list[Reply]:
        started = time.perf_counter()
        replies = await self._handle(turn)
        if self.observe is not None:
            self.observe(turn, time.perf_counter() - started)
        return replies

    async def _handle(self, turn: Turn) -> list[Reply]:
        key = (turn.transport, turn.user_id)
        verdict = self.flood.check(key)
        if verdict != "ok":
            return (
                [Reply(t(normalise_language(self._language_hint(turn)), "flood"))]
                if verdict == "warn"
                else []
            )
        async with self._locks.hold(key):
            if self._db_threads is None:
                replies, deferred = self._run(turn)
            else:
                context = contextvars.copy_context()  # as asyncio.to_thread does
                loop = asyncio.get_running_loop()
                replies, deferred = await loop.run_in_executor(self._db_threads, context.run, self._run, turn)
        for request in deferred:  # outside the transaction and the lock
            replies = [*replies, *await self._resolve(request)]
        return replies

    async def _resolve(self, request: object) -> list[Reply]:
        resolver = self.resolvers.get(type(request))
        if resolver is None:
            return []
        try:
            return await resolver(request)
        except Exception:
            log.exception("a deferred %s failed", type(request).__name__)
            return []

    def language_of(self, transport: str, external_id: str) -> str:
        """The language this person's conversation is in (DEFAULT_LANGUAGE for somebody new)."""
        with session_scope(self.engine) as session:
            user = users.find_user(session, transport, external_id)
        return normalise_language(user.language if user is not None else self.settings.default_language)

    def _language_hint(self, turn: Turn) -> str | None:
        """The client's language, else the operator's DEFAULT_LANGUAGE: used for brand-new conversations."""
        return turn.language or self.settings.default_language

    def handle_sync(self, turn: Turn) -> list[Reply]:
        """One turn without its deferred network work (tests, benchmarks and the row-lock checks)."""
        return self._run(turn)[0]

    def _run(self, turn: Turn) -> tuple[list[Reply], list[object]]:
        knowledge = self.knowledge  # once: a reload during this turn does not reach into it
        hint = self._language_hint(turn)
        deferred: list[object] = []
        lang = normalise_language(hint)
        try:
            with session_scope(self.engine) as session:
                record = users.open_turn(session, turn.transport, turn.user_id, lang)
                state = dialog.with_language(ConversationState.restore(record.state), hint)
                lang = state.language
                state = bind_person(state, turn)
                handler = self.features.resolve(turn, state, is_admin(self.settings, turn))
                if handler is not None:
                    user = session.get(User, record.user_id)
                    assert user is not None
                    ctx = FeatureContext(
                        turn,
                        session,
                        user,
                        state,
                        knowledge.kb,
                        self.settings,
                        self.command_prefixes.get(turn.transport, "/"),
                    )
                    replies = run_feature(handler, ctx)
                    if ctx.user_deleted:
                        return replies, []
                    deferred = ctx.deferred
                    state = ctx.state
                    session.flush()  # the feature's own changes first; the turn's writes go last
                else:
                    before = state
                    state, replies = dialog.step(state, turn, knowledge.dialog_ctx)
                    carry_over(before, state, turn)
                    deferred = self._followups(before, state, turn, knowledge.kb)
                users.close_turn(
                    session,
                    record,
                    state.dump(),
                    state.language,
                    {
                        "situation": state.situation,
                        "district": state.district,
                        "sector": state.sector,
                        "goal": state.goal,
                    },
                )
            return replies, deferred
        except sa.exc.OperationalError:
            log.warning("database unavailable while handling a %s turn", turn.transport)
            return [Reply(t(lang, "error.unavailable"))], []
        except Exception:
            # no message contents in logs: only the kind of turn
            log.exception("turn of kind %s on %s failed", turn.kind, turn.transport)
            return [Reply(t(lang, "error.internal"))], []

    def _followups(
        self, before: ConversationState, state: ConversationState, turn: Turn, kb: KnowledgeBase
    ) -> list[object]:
        if not self.features.followups:
            return []
        ctx = FollowupContext(
            turn, before, state, kb, self.settings, self.command_prefixes.get(turn.transport, "/")
        )
        for followup in self.features.followups:
            followup(ctx)
        return ctx.deferred
