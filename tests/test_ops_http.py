"""`/healthz` and `/metrics` of `bildungslotse run` (bot.runner.serve), over real HTTP on loopback.

The bot runs with Telegram against the Bot API stand-in, so "connected" and "a turn" are real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import generate_latest

from bot.heap_trim import glibc_malloc_trim
from bot.runner import serve
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.health import Health
from bot.web.server import HttpServer, HttpStartError
from db.engine import make_engine, session_scope
from db.offer_store import verify_offer
from db.types import utcnow
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn, free_port

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

CHAT = 731_942_586  # an id that must never show up in the metrics


@asynccontextmanager
async def running(api: BotApiStandIn, database_url: str, **overrides: Any) -> AsyncIterator[str]:
    """`bildungslotse run` in this process; yields the base URL of its HTTP port."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        telegram_per_chat_rate=50.0,
        http_port=port,
        quiet_hours="",
        **overrides,
    )
    engine = make_engine(database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, engine, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            async with asyncio.timeout(60):
                while True:
                    if task.done():
                        task.result()
                    try:
                        if (await http.get(f"{base}/healthz")).status_code == 200:
                            break  # everything started (503 "starting" before)
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        engine.dispose()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it is not there yet)."""
    for line in metrics.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if head.split("{")[0] == name and found == labels:
            return float(value)
    return 0.0


async def test_healthz_says_ok_when_database_transport_and_schedulers_are_up(
    api: BotApiStandIn, sqlite_url: str
) -> None:
    async with running(api, sqlite_url) as base, httpx.AsyncClient() as http:
        resp = await http.get(f"{base}/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "transport:telegram",
        "scheduler:reminders",
        "scheduler:purge",
        "scheduler:offer-refresh",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert body["offer_base"]["revision"] == 1  # the bundled base seeded into the empty database


async def test_metrics_count_a_turn_without_its_text_or_the_users_id(
    api: BotApiStandIn, sqlite_url: str
) -> None:
    async with running(api, sqlite_url) as base, httpx.AsyncClient() as http:
        before = (await http.get(f"{base}/metrics")).text
        api.user_text(CHAT, "/start")
        await api.wait_for(lambda: api.last_message(CHAT))
        api.user_text(CHAT, "Ich heiße Zacharias-Quirin und wohne in Uelzen")
        await api.wait_for(lambda: len(api.messages(CHAT)) >= 2 or None)  # welcome, then the next question
        resp = await http.get(f"{base}/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    after = resp.text
    key = {"transport": "telegram", "kind": "command"}
    assert (
        sample(after, "bildungslotse_updates_total", **key)
        == sample(before, "bildungslotse_updates_total", **key) + 1
    )
    assert sample(after, "bildungslotse_reply_latency_seconds_count", transport="telegram") >= 2
    assert sample(after, "bildungslotse_active_conversations") >= 1
    assert "bildungslotse_outbox_depth 0.0" in after
    assert str(CHAT) not in after and "Zacharias" not in after and "Uelzen" not in after


async def test_metrics_and_healthz_show_the_offer_base_revision_moving_after_a_partners_edit(
    api: BotApiStandIn, sqlite_url: str
) -> None:
    engine = make_engine(sqlite_url)
    async with running(api, sqlite_url, offer_refresh_seconds=1) as base, httpx.AsyncClient() as http:
        before = (await http.get(f"{base}/metrics")).text
        assert sample(before, "bildungslotse_offer_base_revision") == 1
        assert sample(before, "bildungslotse_offer_base_database_revision") == 1
        with session_scope(engine) as session:  # the console's „Als geprüft markieren“
            assert verify_offer(session, "bildungsgutschein", "Anna Berger", utcnow(), dt.UTC, "console:anna")
        async with asyncio.timeout(30):  # the process's own refresh job picks it up (every second here)
            while (await http.get(f"{base}/healthz")).json()["offer_base"]["revision"] != 2:
                await asyncio.sleep(0.1)
        after = (await http.get(f"{base}/metrics")).text
    engine.dispose()
    assert sample(after, "bildungslotse_offer_base_revision") == 2
    assert sample(after, "bildungslotse_offer_base_database_revision") == 2


@pytest.mark.skipif(glibc_malloc_trim() is None, reason="needs glibc's malloc_trim")
async def test_metrics_count_the_heap_trims_and_heap_trim_seconds_0_switches_them_off(
    api: BotApiStandIn, sqlite_url: str
) -> None:
    async with running(api, sqlite_url) as base, httpx.AsyncClient() as http:
        async with asyncio.timeout(30):  # the first trim runs at start-up, on the scheduler's thread
            while sample((await http.get(f"{base}/metrics")).text, "bildungslotse_heap_trims_total") < 1:
                await asyncio.sleep(0.05)
    before = sample((await asyncio.to_thread(generate_latest)).decode(), "bildungslotse_heap_trims_total")
    async with running(api, sqlite_url, heap_trim_seconds=0) as base, httpx.AsyncClient() as http:
        await asyncio.sleep(0.5)
        after = sample((await http.get(f"{base}/metrics")).text, "bildungslotse_heap_trims_total")
    assert after == before  # counters are per process: this run added none


@pytest.mark.postgres
async def test_healthz_says_503_when_the_database_is_gone(api: BotApiStandIn, postgres_url: str) -> None:
    async with running(api, postgres_url) as base, httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/healthz")).status_code == 200
        admin = make_engine(
            str(sa.engine.make_url(postgres_url).set(database="postgres")), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            name = sa.engine.make_url(postgres_url).database
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        resp = await http.get(f"{base}/healthz")
        metrics = await http.get(f"{base}/metrics")
    assert resp.status_code == 503
    body: dict[str, Any] = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["transport:telegram"]["ok"] is True  # the reason is named, not guessed
    assert metrics.status_code == 200  # counters are still there; the database gauges are left out
    assert "bildungslotse_outbox_depth" not in metrics.text


async def test_healthz_says_503_for_an_unreachable_database_server() -> None:
    engine = make_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing")
    server = HttpServer(create_app(Health(engine, db_timeout=10)), "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient() as http:
            resp = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.stop()
        engine.dispose()
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "nobody" not in resp.text  # no part of the database URL


async def test_a_busy_http_port_is_one_clear_start_up_error(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    first = HttpServer(create_app(Health(engine)), "127.0.0.1", 0)
    await first.start()
    try:
        with pytest.raises(HttpStartError, match="HTTP_PORT"):
            await HttpServer(create_app(Health(engine)), "127.0.0.1", first.port).start()
    finally:
        await first.stop()
        engine.dispose()


async def test_bot_api_errors_are_counted_by_code_without_the_chat() -> None:
    from prometheus_client import REGISTRY
    from telegram.error import Forbidden, RetryAfter

    from bot.telegram.limiter import TelegramRateLimiter

    async def no_wait(seconds: float) -> None:
        return None

    limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0, sleep=no_wait)
    attempts: list[int] = []

    async def flood_then_ok() -> bool:
        attempts.append(1)
        if len(attempts) == 1:
            raise RetryAfter(1)
        return True

    async def blocked() -> bool:
        raise Forbidden("Forbidden: bot was blocked by the user")

    def count(code: str) -> float:
        return REGISTRY.get_sample_value("bildungslotse_bot_api_errors_total", {"code": code}) or 0.0

    before = count("429"), count("403")
    data = {"chat_id": CHAT, "text": "Hallo"}
    assert await limiter.process_request(flood_then_ok, (), {}, "sendMessage", data, None) is True
    with pytest.raises(Forbidden):
        await limiter.process_request(blocked, (), {}, "sendMessage", data, None)
    assert (count("429"), count("403")) == (before[0] + 1, before[1] + 1)


async def test_telegram_counts_as_disconnected_while_the_bot_api_does_not_answer(
    api: BotApiStandIn, sqlite_url: str, kb: KnowledgeBase
) -> None:
    from bot.app import build_features, feature_settings
    from bot.conversation import ConversationService
    from bot.telegram.limiter import TelegramRateLimiter
    from bot.telegram.runtime import TelegramRuntime

    settings = Settings(
        database_url=sqlite_url, telegram_bot_token=api.token, telegram_api_base_url=api.base_url
    )
    engine = make_engine(sqlite_url)
    service = ConversationService(engine, kb, feature_settings(settings), build_features())
    limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0, max_retries=1, backoff=0.01)
    runtime = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=0.2)
    runtime.unreachable_after = 0.3
    await runtime.start()
    try:
        assert runtime.connected()
        api.inject("getUpdates", status=502, times=1_000_000)  # Telegram's side of the network is down

        async def until(expected: bool) -> None:
            async with asyncio.timeout(30):
                while runtime.connected() is not expected:
                    await asyncio.sleep(0.05)

        await until(False)
        api.clear_faults()
        await until(True)  # the next successful poll: connected again, no restart needed
    finally:
        await runtime.stop()
        engine.dispose()


async def test_healthz_says_503_starting_until_every_part_has_started(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    health = Health(engine, ready=False)
    server = HttpServer(create_app(health), "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient() as http:
            starting = await http.get(f"http://127.0.0.1:{server.port}/healthz")
            health.ready = True
            health.transports["telegram"] = lambda: True
            ready = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.stop()
        engine.dispose()
    assert starting.status_code == 503 and starting.json()["checks"]["startup"] == {
        "ok": False,
        "error": "starting",
    }
    assert ready.status_code == 200 and "startup" not in ready.json()["checks"]
