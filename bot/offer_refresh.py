"""Keeps a running bot's offer base current: a partner's edit reaches users without a restart.

Every write to offers or institutions raises one counter in the database (`db.offer_store`), in the
same transaction. Each bot process asks for that counter every OFFER_REFRESH_SECONDS on a scheduler
thread of its own, never in a user's turn (a turn's CPU is what the benchmarks guard); only when it
moved does the process read the offers and build the new index, still on that thread, off the event
loop, and hand the finished knowledge base to the conversation service in one assignment. A reload
that fails (the database briefly gone) keeps the base in use and logs one line; the next check tries
again, so processes converge on the database's revision as soon as it answers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bot.clock import Clock, system_clock
from bot.conversation import ConversationService
from bot.scheduling import Ticking, tick_scheduler
from db import offer_store
from db.engine import session_scope
from knowledge.base import KnowledgeBase
from knowledge.gazetteer import Gazetteer

log = logging.getLogger(__name__)


def read_knowledge(engine: sa.Engine, gazetteer: Gazetteer | None = None) -> tuple[int, KnowledgeBase]:
    """The offer base as the database holds it now, with its revision, as the dialog's index.

    `gazetteer`: the one already loaded (the municipalities do not change with an offer edit)."""
    with session_scope(engine) as session:
        revision, base = offer_store.read_revision_and_base(session)
    return revision, KnowledgeBase.from_offer_base(base, gazetteer)


def _reason(exc: BaseException) -> str:
    """A short cause without secrets (a connection error's text may name host and user)."""
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return type(getattr(exc, "orig", None) or exc).__name__
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class OfferRefresh(Ticking):
    """Checks the revision now and every `seconds`; swaps in a reloaded base when it moved."""

    def __init__(
        self,
        service: ConversationService,
        engine: sa.Engine,
        seconds: float,
        clock: Clock = system_clock,
        on_loaded: Callable[[int], None] | None = None,
    ) -> None:
        self.service = service
        self.engine = engine
        self.seconds = seconds
        self.clock = clock
        self.on_loaded = on_loaded  # e.g. the /metrics gauge; the console never imports prometheus
        self.loaded_at: dt.datetime | None = None

    def check(self) -> bool:
        """One poll (the scheduled job; tests call it directly). True when a new base was swapped in."""
        current = self.service.knowledge
        try:
            with session_scope(self.engine) as session:
                revision = offer_store.revision(session)
            if revision == current.revision:
                return False
            revision, kb = read_knowledge(self.engine, current.kb.gazetteer)
        except Exception as exc:  # whatever went wrong, users keep the base they had
            log.warning(
                "offer base: reload failed (%s); keeping revision %s, next try in %g s",
                _reason(exc),
                current.revision,
                self.seconds,
            )
            return False
        self.service.use_knowledge(kb, revision)
        self.loaded_at = self.clock()
        log.info(
            "offer base: revision %d loaded (%d offers, %d institutions; was %s)",
            revision,
            len(kb.offers),
            len(kb.institutions),
            current.revision,
        )
        if self.on_loaded is not None:
            self.on_loaded(revision)
        return True

    def status(self) -> dict[str, Any]:
        """For /healthz: which revision this process answers from, so an operator can compare processes."""
        return {
            "revision": self.service.knowledge.revision,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
        }

    async def start(self) -> None:
        self.loaded_at = self.clock()  # the base build_service read moments ago
        if self.on_loaded is not None and self.service.knowledge.revision is not None:
            self.on_loaded(self.service.knowledge.revision)
        self.scheduler = tick_scheduler(self.check, self.seconds, "offer-refresh", self.clock)
