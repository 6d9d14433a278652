"""Benchmark: the whole bot against a bare python-telegram-bot bot, same traffic, same Bot API stand-in.

    .venv/bin/python -m bench.dialog [--users 50] [--updates 1000] [--rounds 5] [--json FILE]
    .venv/bin/python -m bench.dialog --processes 2 --database-url postgresql://… [--rounds 3] [--json FILE]
    .venv/bin/python -m bench.dialog --latency [--users 20] [--json FILE]

Absolute milliseconds on a shared two-core machine are not stable, so the number that counts is a
ratio measured in one run: the whole bot's CPU per update divided by that of a *bare* PTB bot that
answers /start with one keyboard message and a button press with answerCallbackQuery +
editMessageText (target ≤ 1.4). Both serve the same users through the same stand-in
(tests/telegram_standin.py), which runs in a separate process so that only the bot's work is
measured; the two bots take turns (bare, whole, bare, whole, …) and each figure is the median of
its turns. The traffic is "/start and taps": /start, situation, district, sector, goal (results),
back, goal again — the path the ratio target names. Send limits are lifted and the flood guard is
off for this part: they would measure waiting, not work.

`--latency`: a calmer, realistic load with Telegram's real per-chat budget (burst 8, then 1
message/s) and the flood guard on: every user taps every 2 s through a whole dialog to results,
details, contact and the next page; measured is the time from a tap to the last message of its
answer (p50/p95; target p95 ≤ 1 s, SQLite, one process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import multiprocessing as mp
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.bare_bot import bare_application
from bench.report import save

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (kind, argument): "press" taps a button whose option id starts with the argument
SCRIPTS: dict[str, tuple[tuple[str, str], ...]] = {
    "taps": (
        ("text", "/start"),
        ("press", "sit:"),
        ("press", "dist:"),
        ("press", "sec:"),
        ("press", "goal:"),
        ("press", "nav:back"),
        ("press", "goal:"),
    ),
    "whole_dialog": (
        ("text", "/start"),
        ("press", "sit:"),
        ("press", "dist:"),
        ("press", "sec:"),
        ("press", "goal:"),
        ("press", "offer:"),
        ("press", "contact:"),
        ("press", "nav:more"),
    ),
}
WARMUP = 60
# the baselines: the bare bot on PTB's default client (the target's reference) and on the whole bot's client
BARE_CLIENTS = {"bare": "httpx", "bare_aiohttp": "aiohttp"}
KINDS = (*BARE_CLIENTS, "whole")
TAP_EVERY = 2.0
# the ratio run measures work, not waiting: send limits lifted, flood guard off (bot.settings fields)
LIFTED: dict[str, Any] = {
    "telegram_send_rate": 1e6,
    "telegram_per_chat_rate": 1e6,
    "telegram_per_chat_burst": 1000,
    "flood_max_messages": 10**9,
}


# --- the users' side (child process) -------------------------------------------------------------
def _standin_process(conn: Connection) -> None:
    asyncio.run(_serve_standin(conn))


async def _serve_standin(conn: Connection) -> None:
    from tests.telegram_standin import BotApiStandIn

    async with BotApiStandIn() as api, contextlib.aclosing(pipe_messages(conn)) as inbox:
        driver = Driver(api)
        conn.send(("ready", api.base_url, api.token))
        async for message in inbox:
            if message[0] == "next":
                driver.next(message[1])
            elif message[0] == "script":
                driver.script = SCRIPTS[message[1]]
                driver.position.clear()
            elif message[0] == "calls":
                conn.send(("calls", {m: len(api.calls_to(m)) for m in message[1]}))
            elif message[0] == "stop":
                conn.send(("stopped", driver.diverged))
                break


async def pipe_messages(conn: Connection) -> AsyncGenerator[Any, None]:
    """The parent's commands, read without blocking the stand-in's event loop (it serves the bot)."""
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        while conn.poll():
            inbox.put_nowait(conn.recv())

    loop.add_reader(conn.fileno(), readable)
    try:
        while True:
            yield await inbox.get()
    finally:
        loop.remove_reader(conn.fileno())


@dataclass
class Driver:
    api: Any
    script: tuple[tuple[str, str], ...] = SCRIPTS["taps"]
    position: dict[int, int] = field(default_factory=dict)
    diverged: int = 0

    def _button(self, chat: int, prefix: str, salt: int) -> tuple[int, str] | None:
        for message in reversed(self.api.messages(chat)[-20:]):
            datas = [
                b.callback_data
                for b in message.buttons
                if b.callback_data and b.callback_data.split("|")[-1].startswith(prefix)
            ]
            if datas:
                return message.message_id, datas[salt % len(datas)]
        return None

    def next(self, chat: int) -> None:
        pos = self.position.get(chat, 0)
        self.position[chat] = pos + 1
        kind, arg = self.script[pos % len(self.script)]
        if kind == "text":
            self.api.user_text(chat, arg)
            return
        found = self._button(chat, arg, chat + pos // len(self.script))
        if found is None:  # e.g. no second page for these answers: start over (still one update)
            self.diverged += 1
            self.position[chat] = 1
            self.api.user_text(chat, "/start")
        else:
            self.api.press(chat, *found)


# --- the bots (this process, measured) -----------------------------------------------------------
class _Bot:
    """Starts/stops one of the two bots on the same stand-in (never both polling at once)."""

    def __init__(self, kind: str, base_url: str, token: str, database_url: str, real_limits: bool) -> None:
        self.kind = kind
        self.base_url, self.token, self.database_url = base_url, token, database_url
        self.real_limits = real_limits
        self.runtime: Any = None
        self.app: Any = None
        self.engine: Any = None

    async def start(self, on_done: Any) -> None:
        from telegram import Update
        from telegram.ext import TypeHandler

        if self.kind in BARE_CLIENTS:
            self.app = bare_application(self.base_url, self.token, BARE_CLIENTS[self.kind])
            self.app.add_handler(TypeHandler(Update, on_done), group=1)
            await self.app.initialize()
            assert self.app.updater is not None
            await self.app.updater.start_polling(timeout=10)
            await self.app.start()
            return
        from bot.app import build_service
        from bot.settings import Settings
        from bot.telegram.runtime import TelegramRuntime
        from db.engine import make_engine

        settings = Settings(
            database_url=self.database_url,
            telegram_bot_token=self.token,
            telegram_api_base_url=self.base_url,
            log_level="WARNING",
            # the bare bot asks no web API and the stand-in serves only the Bot API: with the live
            # course search on, every results page waited for a timeout on the real Weiterbildungssuche
            course_search="off",
            **({} if self.real_limits else LIFTED),
        )
        self.engine = make_engine(self.database_url)
        self.runtime = TelegramRuntime(settings, build_service(settings, self.engine))
        self.runtime.application.add_handler(TypeHandler(Update, on_done), group=1)
        await self.runtime.start()

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.engine.dispose()
            self.runtime = self.engine = None
        if self.app is not None:
            assert self.app.updater is not None
            await self.app.updater.stop()
            await self.app.stop()
            await self.app.shutdown()
            self.app = None


@dataclass
class Phase:
    target: int
    done: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    cpu: float = 0.0
    wall: float = 0.0


class _Throughput:
    """All users at once: each next update as soon as the previous one of that user is answered, each
    user the same share of the updates, so that both bots get the same updates (the same mix of
    /start and taps, hence comparable Bot API requests per update)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.phase: Phase | None = None
        self.left: dict[int, int] = {}
        self.started = (0.0, 0.0)

    async def on_done(self, update: Any, context: Any) -> None:
        phase = self.phase
        if phase is None:
            return
        phase.done += 1
        chat = update.effective_chat.id
        if phase.done == phase.target:
            phase.cpu = time.process_time() - self.started[0]
            phase.wall = time.perf_counter() - self.started[1]
            phase.finished.set()
        elif self.left.get(chat, 0) > 0:
            self.left[chat] -= 1
            self.conn.send(("next", chat))

    async def run(self, target: int, chats: list[int]) -> Phase:
        self.phase = phase = Phase(target)
        chats = chats[:target]
        self.left = {c: target // len(chats) + (i < target % len(chats)) - 1 for i, c in enumerate(chats)}
        self.started = (time.process_time(), time.perf_counter())
        for chat in chats:
            self.conn.send(("next", chat))
        await phase.finished.wait()
        await asyncio.sleep(0.5)  # nothing is in flight any more; late log lines and closes settle
        self.phase = None
        return phase


def _calls(conn: Connection, methods: tuple[str, ...]) -> dict[str, int]:
    conn.send(("calls", methods))
    _, counts = conn.recv()
    return dict(counts)


COUNTED = ("sendMessage", "editMessageText", "answerCallbackQuery", "sendDocument")


async def start_standin(
    target: Callable[[Connection], None] = _standin_process,
) -> tuple[Any, Connection, str, str]:
    """The stand-in in a process of its own, so that the bot's CPU is the bot's alone."""
    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    child = ctx.Process(target=target, args=(child_conn,), daemon=True)
    child.start()
    _, base_url, token = parent_conn.recv()
    return child, parent_conn, base_url, token


async def stop_standin(child: Any, conn: Connection) -> Any:
    conn.send(("stop",))
    _, result = conn.recv()
    child.join(5)
    return result


def summarize(
    samples: dict[str, list[Phase]],
    requests: dict[str, float],
    database: str,
    users: int,
    updates: int,
    rounds: int,
    diverged: int,
) -> dict[str, Any]:
    """The result of a ratio run, one process or two: `samples` are the measured turns of each bot in
    the order they ran (bare, whole, bare, whole, …), `requests` the Bot API requests of its last turn."""

    def cpu_ms(kind: str) -> float:
        return statistics.median(p.cpu / p.target * 1000 for p in samples[kind])

    def paired(value: Callable[[Phase], float], baseline: str = "bare") -> list[float]:
        pairs = zip(samples[baseline], samples["whole"], strict=True)
        return [value(w) / value(b) for b, w in pairs]

    def cpu(p: Phase) -> float:
        return p.cpu / p.target

    def rate(kind: str) -> float:
        return statistics.median(p.target / p.wall for p in samples[kind])

    return {
        "database": database,
        "users": users,
        "updates": updates,
        "rounds": rounds,
        "bare_cpu_ms": round(cpu_ms("bare"), 3),
        "whole_cpu_ms": round(cpu_ms("whole"), 3),
        # each turn of the whole bot against the bare bot's turn right before it (the machine's load
        # changes over minutes; neighbours share it), then the median over the rounds
        "cpu_ratio": round(statistics.median(paired(cpu)), 2),
        "cpu_ratios": [round(r, 2) for r in paired(cpu)],
        # the same against the bare bot on the whole bot's own Bot API client: what our code costs
        "bare_aiohttp_cpu_ms": round(cpu_ms("bare_aiohttp"), 3),
        "cpu_ratio_same_client": round(statistics.median(paired(cpu, "bare_aiohttp")), 2),
        "cpu_ratios_same_client": [round(r, 2) for r in paired(cpu, "bare_aiohttp")],
        # per round, to tell a slow whole-bot turn from a fast bare one when a pair stands out
        "bare_cpu_ms_rounds": [round(p.cpu / p.target * 1000, 3) for p in samples["bare"]],
        "bare_aiohttp_cpu_ms_rounds": [round(p.cpu / p.target * 1000, 3) for p in samples["bare_aiohttp"]],
        "whole_cpu_ms_rounds": [round(p.cpu / p.target * 1000, 3) for p in samples["whole"]],
        "bare_updates_per_s": round(rate("bare"), 1),
        "whole_updates_per_s": round(rate("whole"), 1),
        "throughput_ratio": round(statistics.median(paired(lambda p: p.target / p.wall)), 2),
        "bare_requests_per_update": round(requests["bare"] / updates, 2),
        "whole_requests_per_update": round(requests["whole"] / updates, 2),
        "script_restarts": diverged,
    }


async def bench_ratio(
    users: int, updates: int, rounds: int, database_url: str | None, profile: str = ""
) -> dict[str, Any]:
    from db import migrate

    child, conn, base_url, token = await start_standin()
    conn.send(("script", "taps"))
    samples: dict[str, list[Phase]] = {kind: [] for kind in KINDS}
    requests: dict[str, float] = {}
    chat_base = 1000
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        try:
            for round_no in range(rounds + 1):  # round 0 warms up both (imports, caches): not counted
                for kind in KINDS:
                    harness = _Throughput(conn)
                    bot = _Bot(kind, base_url, token, url, real_limits=False)
                    await bot.start(harness.on_done)
                    try:
                        chat_base += 1000  # fresh users each turn: both bots see the same script from the top
                        await harness.run(WARMUP, [chat_base - 1])
                        before = _calls(conn, COUNTED)
                        chats = list(range(chat_base, chat_base + users))
                        profiler = cProfile.Profile() if profile == kind else None
                        if profiler is not None:
                            profiler.enable()
                        phase = await harness.run(updates, chats)
                        if round_no:
                            samples[kind].append(phase)
                        if profiler is not None:
                            profiler.disable()
                            pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                                os.environ.get("BENCH_SORT", "tottime")
                            ).print_stats(os.environ.get("BENCH_FILTER", ""), 40)
                        after = _calls(conn, COUNTED)
                        requests[kind] = sum(after.values()) - sum(before.values())
                    finally:
                        await bot.stop()
        finally:
            diverged = int(await stop_standin(child, conn))

    database = "postgresql" if url.startswith("postgres") else "sqlite"
    return summarize(samples, requests, database, users, updates, rounds, diverged)


class _Taps:
    """Each user taps every TAP_EVERY seconds (or, if an answer is still coming, right after it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.tapped: dict[int, float] = {}
        self.answered: dict[int, asyncio.Event] = {}
        self.latencies: list[float] = []

    async def on_done(self, update: Any, context: Any) -> None:
        chat = update.effective_chat.id
        if chat in self.tapped:
            self.latencies.append(time.perf_counter() - self.tapped.pop(chat))
            self.answered[chat].set()

    async def user(self, chat: int, taps: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self.answered[chat] = asyncio.Event()
        for _ in range(taps):
            started = time.perf_counter()
            self.answered[chat].clear()
            self.tapped[chat] = started
            self.conn.send(("next", chat))
            await asyncio.wait_for(self.answered[chat].wait(), 60)
            await asyncio.sleep(max(0.0, started + TAP_EVERY - time.perf_counter()))


async def _tap_latencies(kind: str, users: int, rounds: int, database_url: str) -> tuple[list[float], int]:
    child, conn, base_url, token = await start_standin()
    conn.send(("script", "whole_dialog"))
    taps = len(SCRIPTS["whole_dialog"]) * rounds
    harness = _Taps(conn)
    bot = _Bot(kind, base_url, token, database_url, real_limits=True)
    await bot.start(harness.on_done)
    try:
        await asyncio.gather(*(harness.user(5000 + i, taps, i * TAP_EVERY / users) for i in range(users)))
    finally:
        await bot.stop()
        diverged = int(await stop_standin(child, conn))
    return sorted(s * 1000 for s in harness.latencies), diverged


async def bench_latency(users: int, rounds: int, database_url: str | None) -> dict[str, Any]:
    """The whole bot with Telegram's real limits; baseline: the bare bot under the same taps."""
    from db import migrate

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        bare, _ = await _tap_latencies("bare", users, rounds, url)
        whole, diverged = await _tap_latencies("whole", users, rounds, url)

    def p95(ms: list[float]) -> float:
        return statistics.quantiles(ms, n=20)[-1]

    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "users": users,
        "taps": len(whole),
        "tap_every_s": TAP_EVERY,
        "latency_ms_p50": round(statistics.median(whole), 1),
        "latency_ms_p95": round(p95(whole), 1),
        "latency_ms_max": round(whole[-1], 1),
        "bare_latency_ms_p50": round(statistics.median(bare), 1),
        "bare_latency_ms_p95": round(p95(bare), 1),
        "p95_ratio_to_bare": round(p95(whole) / p95(bare), 2),
        "script_restarts": diverged,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--latency", action="store_true", help="tap-every-2-s latency instead of the ratio")
    parser.add_argument("--users", type=int, default=None, help="users at once (50; latency: 20)")
    parser.add_argument("--updates", type=int, default=1000, help="updates per bot turn (ratio)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="measured turns per bot (ratio: 5) / script rounds (latency: 2)",
    )
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="bot processes (ratio): 1 polls; 2 or more run in webhook mode behind a round-robin proxy "
        "(PostgreSQL only, bench/dialog_webhook.py)",
    )
    parser.add_argument(
        "--profile",
        choices=("whole", "bare"),
        default="",
        help="cProfile one bot (stderr); with --processes 2: py-spy",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    if args.processes > 1 and (args.latency or not (args.database_url or "").startswith("postgres")):
        parser.error("--processes 2 measures the ratio on PostgreSQL: give --database-url postgresql://…")
    if args.latency:
        r = asyncio.run(bench_latency(args.users or 20, args.rounds or 2, args.database_url))
        print(
            f"tap every {TAP_EVERY:g} s ({r['database']}, {r['users']} users, {r['taps']} taps): "
            f"tap → last message of the answer p50 {r['latency_ms_p50']} ms, "
            f"p95 {r['latency_ms_p95']} ms, max {r['latency_ms_max']} ms; bare PTB bot p50 "
            f"{r['bare_latency_ms_p50']} ms, p95 {r['bare_latency_ms_p95']} ms"
        )
    else:
        if args.processes > 1:
            from bench.dialog_webhook import bench_processes

            run = bench_processes(
                args.users or 50,
                args.updates,
                args.rounds or 5,
                args.database_url,
                args.processes,
                args.profile,
            )
        else:
            run = bench_ratio(
                args.users or 50, args.updates, args.rounds or 5, args.database_url, args.profile
            )
        r = asyncio.run(run)
        print(
            f"dialog ({r['database']}, {r.get('processes', 1)} process(es), {r['users']} users at once): "
            f"CPU per update whole bot "
            f"{r['whole_cpu_ms']} ms vs bare PTB bot {r['bare_cpu_ms']} ms = {r['cpu_ratio']}x; "
            f"{r['whole_updates_per_s']} vs {r['bare_updates_per_s']} updates/s "
            f"({r['throughput_ratio']}x); bare bot on aiohttp {r['bare_aiohttp_cpu_ms']} ms: "
            f"{r['cpu_ratio_same_client']}x; Bot API requests per update {r['whole_requests_per_update']} "
            f"vs {r['bare_requests_per_update']}"
        )
    save(args.json, r)


if __name__ == "__main__":
    main()
