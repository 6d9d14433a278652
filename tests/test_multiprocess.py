"""Two real `bildungslotse run` processes in webhook mode behind a round-robin proxy, one PostgreSQL.

This is the deployment of docker-compose.yml with the second bot switched on: Telegram POSTs every
update to the proxy, the proxy hands them to the processes in turn (as nginx or Caddy would), so
one user's dialog alternates between the processes. It must come out exactly as with one process,
and a reminder fan-out that both processes start at the same moment must reach everybody once. A
partner's edit made while both run reaches the users of both, without a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import Session, select

from db import offer_store
from db.engine import make_engine, session_scope
from db.models import OfferRecord, Profile, User
from tests.reminders_support import add_event, add_subscribers, statuses
from tests.service_support import SECRET, BotProcess, RoundRobinProxy, bot_env
from tests.telegram_standin import BotApiStandIn, SentMessage

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ALICE, BOB = 1001, 1002
SUBSCRIBERS = 300
DIALOG = ("sit:beschaeftigt", "dist:lueneburg", "sec:gesundheit", "goal:weiterbildung")
EDITED = "Von der Partnerin neu gefasst, während beide Prozesse liefen."


def question_with(api: BotApiStandIn, chat: int, prefix: str) -> SentMessage | None:
    for message in reversed(api.messages(chat)):
        if any((b.callback_data or "").split("|")[-1].startswith(prefix) for b in message.buttons):
            return message
    return None


async def talk(api: BotApiStandIn, chat: int) -> None:
    """The user answers every question by button, waiting for each question as a person would."""
    api.user_text(chat, "/start")
    for option in DIALOG:
        prefix = option.split(":")[0] + ":"
        message = await api.wait_for(lambda p=prefix: question_with(api, chat, p), timeout=30)  # type: ignore[misc]
        data = next(b.callback_data for b in message.buttons if (b.callback_data or "").endswith(option))
        assert data is not None
        api.press(chat, message.message_id, data)


def metric(text: str, sample: str) -> float:
    """One sample of Prometheus' text format (0 when the process has not counted any yet)."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def edit_reaches_both(
    api: BotApiStandIn, engine: sa.Engine, proxy: RoundRobinProxy, procs: list[BotProcess], now: dt.datetime
) -> None:
    """A console edit while both processes run: each process's refresh job (every second here) picks
    it up, and a tap answered by either process shows the edited summary."""
    results = {
        chat: next(m for m in api.messages(chat) if "Das passt zu Ihnen" in m.text) for chat in (ALICE, BOB)
    }
    button = next(
        b.callback_data or "" for b in results[ALICE].buttons if "offer:" in (b.callback_data or "")
    )
    with session_scope(engine) as session:
        row = session.get(OfferRecord, button.rsplit("offer:", 1)[1])
        assert row is not None
        texts = {"summary": EDITED, "next_step": row.data["next_step"]}
        offer_store.edit_offer(session, row, texts, now, "console:anna")
        target = offer_store.revision(session)  # raised by the edit, committed with it
    async with httpx.AsyncClient() as http, asyncio.timeout(30):
        for p in procs:
            while (await http.get(p.health)).json()["offer_base"]["revision"] != target:
                await asyncio.sleep(0.1)
    for chat, backend in ((ALICE, 1), (BOB, 0)):  # Bob stays with the first process throughout
        proxy.only = backend
        api.press(chat, results[chat].message_id, button)
        await api.wait_for(lambda c=chat: any(EDITED in m.text for m in api.messages(c)) or None, timeout=30)  # type: ignore[misc]
    proxy.only = None


def transcript(api: BotApiStandIn, chat: int) -> list[tuple[str, list[str]]]:
    return [(m.text, [b.callback_data or b.url or "" for b in m.buttons]) for m in api.messages(chat)]


def profile_of(engine: sa.Engine, chat: int) -> tuple[Any, ...]:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == str(chat))).one()
        p = session.exec(select(Profile).where(Profile.user_id == user.id)).one()
        return (p.situation, p.district, p.sector, p.goal)


async def test_two_processes_behind_a_proxy_answer_like_one_and_send_each_reminder_once(
    api: BotApiStandIn, postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    # the bot processes keep the real clock, also when the suite runs shifted (BL_TEST_NOW)
    hatch = time_machine.escape_hatch
    now = dt.datetime.fromtimestamp(hatch.time.time() if hatch.is_travelling() else time.time(), dt.UTC)
    add_event(engine, now - dt.timedelta(days=30), start=now + dt.timedelta(days=7) - dt.timedelta(hours=1))
    subscribers = add_subscribers(engine, SUBSCRIBERS, now - dt.timedelta(days=30), first_id=50_000)

    procs: list[BotProcess] = []
    async with RoundRobinProxy([]) as proxy:
        for _ in range(2):
            env = bot_env(api, postgres_url, proxy.url, OFFER_REFRESH_SECONDS="1")
            proxy.backends.append(f"http://127.0.0.1:{env['TELEGRAM_WEBHOOK_PORT']}/telegram/hook")
            procs.append(BotProcess(env, tmp_path))
        try:
            # both start at once: they migrate, seed the offer base and plan the fan-out concurrently
            await asyncio.gather(*(p.start() for p in procs))
            async with httpx.AsyncClient() as http, asyncio.timeout(120):
                await asyncio.gather(*(p.healthy(http) for p in procs))
            assert api.webhook == {"url": proxy.url, "secret_token": SECRET}

            await talk(api, ALICE)  # through both processes, alternating
            proxy.only = 0
            await talk(api, BOB)  # the same dialog, one process only
            await api.wait_for(
                lambda: (
                    (
                        transcript(api, ALICE) == transcript(api, BOB)
                        and any("Das passt zu Ihnen" in m.text for m in api.messages(BOB))  # the results
                    )
                    or None
                ),
                timeout=30,
            )
            await edit_reaches_both(api, engine, proxy, procs, now)

            # the fan-out both processes started at start-up: everybody once, nobody twice
            async def fan_out_done() -> None:
                while statuses(engine).get("sent", 0) < SUBSCRIBERS:
                    await asyncio.sleep(0.2)

            await asyncio.wait_for(fan_out_done(), 60)
            # what an operator's Prometheus sees: the counters of both processes add up to the fan-out
            # (a process counts when its tick has finished, a moment after the last row was marked sent)
            async with httpx.AsyncClient() as http, asyncio.timeout(30):
                while True:
                    scraped = [(await http.get(p.health.replace("/healthz", "/metrics"))).text for p in procs]
                    sent = [metric(text, 'bildungslotse_reminders_total{result="sent"}') for text in scraped]
                    if sum(sent) >= SUBSCRIBERS:
                        break
                    await asyncio.sleep(0.2)
        finally:
            codes = [await p.stop() for p in procs]

    alice_routes = Counter(backend for backend, chat in proxy.routed if chat == ALICE)
    assert alice_routes[0] >= 2 and alice_routes[1] >= 2, alice_routes  # really alternated
    assert {backend for backend, chat in proxy.routed if chat == BOB} == {0}
    assert (
        profile_of(engine, ALICE)
        == profile_of(engine, BOB)
        == (
            "beschaeftigt",
            "lueneburg",
            "gesundheit",
            "weiterbildung",
        )
    )
    sends = Counter(
        c.params["chat_id"]
        for c in api.calls_to("sendMessage")
        if c.status == 200 and c.params["chat_id"] >= 50_000
    )
    assert set(map(str, sends)) == set(subscribers)  # nothing lost
    assert max(sends.values()) == 1  # nothing twice
    assert statuses(engine) == {"sent": SUBSCRIBERS}
    assert sum(sent) == SUBSCRIBERS  # counted once each, by the process that sent it
    assert all(metric(text, "bildungslotse_outbox_depth") == 0 for text in scraped)
    logs = b"".join(p.stderr for p in procs).decode()
    assert codes == [0, 0], logs[-3000:]
    assert "Traceback" not in logs and api.token not in logs
    engine.dispose()
