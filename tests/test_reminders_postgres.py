"""Several bot processes on one PostgreSQL database share the fan-out without sending anything twice."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence

import pytest

from bot.outbound import DeliveryResult, DeliveryStatus
from bot.reminders.dispatcher import Dispatcher
from db.engine import make_engine
from handlers.turn import Reply
from tests.reminders_support import RULES, add_event, add_subscribers, local, statuses

pytestmark = pytest.mark.postgres
NOW = local(2027, 3, 3, 17, 0)
LONG_AGO = local(2027, 1, 1)


class SharedLog:
    """Stands in for the messenger's view: who received what, from which process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, str]] = []


class LoggingSender:
    transport = "telegram"

    def __init__(self, name: str, log: SharedLog) -> None:
        self.name, self.log = name, log

    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        await asyncio.sleep(0.0005)  # a little network time, so the two processes interleave
        with self.log.lock:
            self.log.received.append((self.name, external_id))
        return DeliveryResult(DeliveryStatus.SENT)


def run_process(name: str, url: str, log: SharedLog, errors: list[BaseException]) -> None:
    """One bot process: its own engine (connections) and event loop; plans and dispatches."""
    engine = make_engine(url)
    try:
        d = Dispatcher(
            engine,
            {"telegram": LoggingSender(name, log)},
            RULES,
            clock=lambda: NOW,
            batch_size=20,
            concurrency=8,
        )
        d.recover()
        d.plan()  # both plan the same reminders at the same moment: the unique key keeps one each
        asyncio.run(d.dispatch())
    except BaseException as exc:
        errors.append(exc)
    finally:
        engine.dispose()


def test_two_dispatchers_share_1000_subscribers_with_zero_duplicates(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    add_event(engine, LONG_AGO, start=local(2027, 3, 10, 17, 0))
    ids = add_subscribers(engine, 1000, LONG_AGO)
    log = SharedLog()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=run_process, args=(n, postgres_url, log, errors)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    per_user = Counter(ext for _, ext in log.received)
    assert set(per_user) == set(ids)  # nothing lost
    assert max(per_user.values()) == 1  # nothing twice
    per_process = Counter(name for name, _ in log.received)
    assert per_process["a"] > 0 and per_process["b"] > 0  # the work was shared
    assert statuses(engine) == {"sent": 1000}
    engine.dispose()
