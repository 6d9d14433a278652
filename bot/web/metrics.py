"""Prometheus metrics (prometheus-client): what an operator graphs and alerts on.

Labels are bounded on purpose: transport names come from the transport registry, turn kinds from
`TurnKind`, Bot API errors are grouped into a handful of codes, reminder results into the outbox's
states. Nothing here ever carries a message text, a user id or a chat id, so a scrape can be shown
to anybody who runs the service. Counters are per process (Prometheus scrapes every process and
sums); the database gauges read the shared database at scrape time and are the same in every process.
The offer base revision is both: the one this process answers from, and the database's; when they
differ for longer than OFFER_REFRESH_SECONDS, that process does not pick up partners' edits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import col

from db.event_models import Delivery, DeliveryState
from db.models import OfferBaseRevision, User
from db.types import utcnow
from handlers.turn import Turn

log = logging.getLogger(__name__)

UPDATES = Counter(
    "bildungslotse_updates",
    "Turns handled, by transport and kind (text, option, command, location, unsupported).",
    ["transport", "kind"],
)
REPLY_LATENCY = Histogram(
    "bildungslotse_reply_latency_seconds",
    "From a turn reaching the conversation service to its replies being ready (includes waiting for "
    "the same user's previous turn and the database; not the messenger's send).",
    ["transport"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOT_API_ERRORS = Counter(
    "bildungslotse_bot_api_errors",
    "Failed Telegram Bot API requests by code (400, 401, 403, 404, 409, 429, network, timeout, other); "
    "a retried request counts once per failed attempt.",
    ["code"],
)
REMINDERS = Counter(
    "bildungslotse_reminders",
    "Outbox deliveries (reminders, notices, broadcasts) by result: sent, retry, blocked, failed, skipped.",
    ["result"],
)
OFFER_BASE_REVISION = Gauge(
    "bildungslotse_offer_base_revision",
    "Revision of the offer base this process answers from (compare with "
    "bildungslotse_offer_base_database_revision and with the other processes).",
)

HEAP_TRIMS = Counter(
    "bildungslotse_heap_trims",
    "Heap trims (bot/heap_trim.py): freed memory handed back to the system, every HEAP_TRIM_SECONDS.",
)
HEAP_RELEASED = Counter(
    "bildungslotse_heap_trim_released_bytes",
    "How much the resident set shrank in the heap trims (memory a burst had freed but still held).",
)

ACTIVE_WINDOW = dt.timedelta(minutes=15)
REMINDER_RESULTS = ("sent", "retried", "blocked", "failed", "skipped")


def bot_api_error_code(exc: BaseException) -> str:
    """A bounded label for a PTB exception (PTB raises by kind, not by HTTP status)."""
    from telegram import error

    for kind, code in (
        (error.RetryAfter, "429"),
        (error.Forbidden, "403"),
        (error.InvalidToken, "401"),
        (error.Conflict, "409"),
        (error.EndPointNotFound, "404"),
        (error.BadRequest, "400"),
        (error.TimedOut, "timeout"),
        (error.NetworkError, "network"),
    ):
        if isinstance(exc, kind):
            return code
    return "other"


def count_bot_api_error(exc: BaseException) -> None:
    BOT_API_ERRORS.labels(code=bot_api_error_code(exc)).inc()


class DatabaseGauges(Collector):
    """Outbox depth and active conversations, read from the database when Prometheus scrapes.

    A database that does not answer yields no sample (the scrape still succeeds; /healthz says why)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # collected only when scraped: registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.engine.connect() as conn:
                pending = conn.execute(
                    sa.select(sa.func.count()).where(col(Delivery.status) == DeliveryState.PENDING.value)
                ).scalar_one()
                active = conn.execute(
                    sa.select(sa.func.count()).where(col(User.last_seen_at) >= utcnow() - ACTIVE_WINDOW)
                ).scalar_one()
                revision = conn.execute(
                    sa.select(col(OfferBaseRevision.revision)).where(col(OfferBaseRevision.id) == 1)
                ).scalar_one_or_none()
        except sa.exc.SQLAlchemyError:
            log.warning("metrics: database unavailable, outbox depth and active conversations left out")
            return
        yield GaugeMetricFamily(
            "bildungslotse_outbox_depth", "Outbox rows waiting to be sent (all processes).", value=pending
        )
        yield GaugeMetricFamily(
            "bildungslotse_active_conversations",
            "Conversations with a message in the last 15 minutes (all processes).",
            value=active,
        )
        yield GaugeMetricFamily(
            "bildungslotse_offer_base_database_revision",
            "Revision of the offer base in the database (raised by every edit; all processes).",
            value=revision or 0,
        )


def count_reminders(sent: int, retried: int, blocked: int, failed: int, skipped: int) -> None:
    """One dispatcher tick's results (see `bot.reminders.dispatcher.DispatchReport`)."""
    for result, n in zip(REMINDER_RESULTS, (sent, retried, blocked, failed, skipped), strict=True):
        if n:
            REMINDERS.labels(result=result).inc(n)


def set_offer_revision(revision: int) -> None:
    """This process now answers from offer base `revision` (bot/offer_refresh.py)."""
    OFFER_BASE_REVISION.set(revision)


def count_heap_trim(released: int) -> None:
    HEAP_TRIMS.inc()
    HEAP_RELEASED.inc(released)


def observe_turn(turn: Turn, seconds: float) -> None:
    """A turn the conversation service handled (`ConversationService.observe`)."""
    UPDATES.labels(turn.transport, turn.kind.value).inc()
    REPLY_LATENCY.labels(turn.transport).observe(seconds)
