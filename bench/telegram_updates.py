"""Benchmark: updates through the whole Telegram stack, and the bot's own CPU time per update.

    .venv/bin/python -m bench.telegram_updates [--updates 2000] [--chats 20] [--database-url URL]

The Bot API stand-in (tests/telegram_standin.py) runs in a *separate process*, so only the bot's
work is measured: long-poll response parsing, PTB dispatch, the conversation service with its
database transaction, rendering and every sendMessage / editMessageText / answerCallbackQuery
over real HTTP on 127.0.0.1. Users follow a script of commands, button presses and free text
(a full advisory dialog with results, details, contacts, corrections and help).

Phase 1 (latency): one update at a time; CPU time of the bot process between the end of one
update and the end of the next = CPU per update (median, p95). Phase 2 (throughput): `--chats`
users at once, updates per second and mean CPU per update. Telegram's send limits are lifted
(TELEGRAM_SEND_RATE etc.) and the flood guard is off, because they would measure waiting, not work.

Baselines in the same run, for the ratios: the same script once more with the dialog state held
in memory instead of the database (transport and dialog only: what the database turn adds), and
one bare sendMessage round trip through the same bot (what one Bot API request costs; the
stand-in counts the requests per update).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# one user's turns, repeated: (kind, argument); "press" picks a button whose option id starts with it
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("press", "sit:"),
    ("press", "dist:"),
    ("press", "sec:"),
    ("press", "goal:"),
    ("press", "offer:"),
    ("press", "contact:"),
    ("text", "Ich wohne in Uelzen"),
    ("text", "Ich möchte eine Weiterbildung machen"),
    ("text", "/profil"),
    ("press", "edit:"),
    ("text", "/hilfe"),
    ("text", "/neu"),
)
WARMUP = 40
BARE_REQUESTS = 500


# --- the users' side (child process) -------------------------------------------------------------
def _standin_process(conn: Connection) -> None:
    asyncio.run(_serve_standin(conn))


async def _serve_standin(conn: Connection) -> None:
    from tests.telegram_standin import BotApiStandIn

    async with BotApiStandIn() as api:
        driver = _Driver(api)
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def readable() -> None:
            while conn.poll():
                inbox.put_nowait(conn.recv())

        loop.add_reader(conn.fileno(), readable)
        conn.send(("ready", api.base_url, api.token))
        while True:
            message = await inbox.get()
            if message[0] == "next":
                driver.next(message[1])
            elif message[0] == "restart":  # the chat plays its script from the top again
                driver.position.pop(message[1], None)
                driver.rounds.pop(message[1], None)
            elif message[0] == "calls":
                conn.send(("calls", len(api.calls)))
            elif message[0] == "stop":
                conn.send(("stopped", driver.diverged))
                break
        loop.remove_reader(conn.fileno())


@dataclass
class _Driver:
    api: Any
    position: dict[int, int] = field(default_factory=dict)
    rounds: dict[int, int] = field(default_factory=dict)  # varies the buttons picked per round
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
        if pos % len(SCRIPT) == 0:
            self.rounds[chat] = self.rounds.get(chat, chat) + 1
        kind, arg = SCRIPT[pos % len(SCRIPT)]
        if kind == "text":
            self.api.user_text(chat, arg)
            return
        found = self._button(chat, arg, self.rounds[chat])
        if found is None:  # e.g. no offers for these answers: start over (it still counts as an update)
            self.diverged += 1
            self.rounds[chat] += 1
            self.position[chat] = 1
            self.api.user_text(chat, "/start")
        else:
            self.api.press(chat, *found)


# --- the bot's side (this process, measured) ------------------------------------------------------
class _StateInMemory:
    """Baseline service: the same dialog, its state kept in a dict instead of the database."""

    def __init__(self, dialog_ctx: Any) -> None:
        self.dialog_ctx = dialog_ctx
        self.states: dict[tuple[str, str], dict[str, Any]] = {}

    async def handle(self, turn: Any) -> list[Any]:
        from handlers import dialog
        from handlers.state import ConversationState

        key = (turn.transport, turn.user_id)
        state = dialog.with_language(ConversationState.restore(self.states.get(key)), turn.language)
        state, replies = dialog.step(state, turn, self.dialog_ctx)
        self.states[key] = state.dump()
        return replies


@dataclass
class _Phase:
    target: int
    done: int = 0
    cpu_samples: list[float] = field(default_factory=list)
    wall_samples: list[float] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    started_at: tuple[float, float] = (0.0, 0.0)  # (CPU, wall) when the phase began
    finished_at: tuple[float, float] = (0.0, 0.0)  # ... and when its last update was done

    @property
    def cpu(self) -> float:
        return self.finished_at[0] - self.started_at[0]

    @property
    def wall(self) -> float:
        return self.finished_at[1] - self.started_at[1]


class _Bench:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.phase: _Phase | None = None
        self.last_cpu = time.process_time()
        self.last_wall = time.perf_counter()

    async def on_update_done(self, update: Any, context: Any) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        phase = self.phase
        if phase is None:
            return
        phase.cpu_samples.append(cpu - self.last_cpu)
        phase.wall_samples.append(wall - self.last_wall)
        self.last_cpu, self.last_wall = cpu, wall
        phase.done += 1
        if phase.done >= phase.target:
            phase.finished_at = (cpu, wall)
            phase.finished.set()
        else:
            self.conn.send(("next", update.effective_chat.id))

    async def run_phase(self, target: int, chats: list[int]) -> _Phase:
        self.phase = _Phase(target)
        self.last_cpu, self.last_wall = time.process_time(), time.perf_counter()
        self.phase.started_at = (self.last_cpu, self.last_wall)
        for chat in chats[:target]:
            self.conn.send(("next", chat))
        await self.phase.finished.wait()
        phase, self.phase = self.phase, None
        await asyncio.sleep(0.3)  # let updates still in flight finish outside the measurement
        return phase


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def _api_calls(conn: Connection) -> int:
    """Requests the stand-in has answered so far (asked between phases, when nothing is in flight)."""
    conn.send(("calls",))
    _, count = conn.recv()
    return int(count)


async def _bare_request_cpu_ms(bot: Any, chat: int, n: int) -> float:
    """Median CPU of one sendMessage round trip through the same bot, HTTP stack and stand-in."""
    samples = []
    for _ in range(n):
        start = time.process_time()
        await bot.send_message(chat, "Baseline: eine Nachricht ohne Tastatur.")
        samples.append(time.process_time() - start)
    return statistics.median(samples[n // 10 :]) * 1000  # the first tenth is warm-up


async def bench(updates: int, chats: int, database_url: str | None) -> dict[str, Any]:
    from telegram import Update
    from telegram.ext import TypeHandler

    from bot.app import build_service
    from bot.settings import Settings
    from bot.telegram.runtime import TelegramRuntime
    from db import migrate
    from db.engine import make_engine

    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    child = ctx.Process(target=_standin_process, args=(child_conn,), daemon=True)
    child.start()
    _, base_url, token = parent_conn.recv()
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            database_url=url,
            telegram_bot_token=token,
            telegram_api_base_url=base_url,
            telegram_send_rate=1e6,
            telegram_per_chat_rate=1e6,
            telegram_per_chat_burst=1000,
            flood_max_messages=10**9,
            log_level="WARNING",
        )
        runtime = TelegramRuntime(settings, build_service(settings, engine))
        harness = _Bench(parent_conn)
        runtime.application.add_handler(TypeHandler(Update, harness.on_update_done), group=1)
        await runtime.start()
        try:
            await harness.run_phase(WARMUP, [1])
            calls_before = _api_calls(parent_conn)
            latency = await harness.run_phase(updates, [2])
            requests_per_update = (_api_calls(parent_conn) - calls_before) / updates
            service, runtime.service = runtime.service, _StateInMemory(runtime.service.dialog_ctx)
            parent_conn.send(("restart", 2))  # same chat, same script, same buttons: only the state moved
            in_memory = await harness.run_phase(updates, [2])
            runtime.service = service
            bare_request = await _bare_request_cpu_ms(runtime.application.bot, 3, BARE_REQUESTS)
            throughput = await harness.run_phase(updates, list(range(100, 100 + chats)))
        finally:
            await runtime.stop()
            parent_conn.send(("stop",))
            _, diverged = parent_conn.recv()
            child.join(5)
            engine.dispose()
    cpu_ms = [s * 1000 for s in latency.cpu_samples]
    wall_ms = [s * 1000 for s in latency.wall_samples]
    in_memory_ms = statistics.median(s * 1000 for s in in_memory.cpu_samples)
    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "updates": updates,
        "chats": chats,
        "cpu_ms_median": round(statistics.median(cpu_ms), 2),
        "cpu_ms_p95": round(_p95(cpu_ms), 2),
        "latency_ms_median": round(statistics.median(wall_ms), 2),
        "updates_per_s": round(throughput.target / throughput.wall, 1),
        "cpu_ms_mean_concurrent": round(throughput.cpu / throughput.target * 1000, 2),
        "script_restarts": diverged,
        "requests_per_update": round(requests_per_update, 2),
        "baseline_state_in_memory_cpu_ms_median": round(in_memory_ms, 2),
        "ratio_vs_state_in_memory": round(statistics.median(cpu_ms) / in_memory_ms, 2),
        "bare_request_cpu_ms": round(bare_request, 2),
        "cpu_per_update_in_bare_requests": round(statistics.median(cpu_ms) / bare_request, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates per phase")
    parser.add_argument("--chats", type=int, default=20, help="users at once in the throughput phase")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args.updates, args.chats, args.database_url))
    print(
        f"telegram updates ({result['database']}): CPU per update median {result['cpu_ms_median']} ms, "
        f"p95 {result['cpu_ms_p95']} ms; latency median {result['latency_ms_median']} ms; "
        f"{result['updates_per_s']} updates/s with {result['chats']} users "
        f"({result['cpu_ms_mean_concurrent']} ms CPU each)\n"
        f"baselines (same run): state in memory instead of the database: median "
        f"{result['baseline_state_in_memory_cpu_ms_median']} ms (full stack = "
        f"{result['ratio_vs_state_in_memory']}x); one bare sendMessage round trip: "
        f"{result['bare_request_cpu_ms']} ms (an update = {result['cpu_per_update_in_bare_requests']}x "
        f"that, at {result['requests_per_update']} Bot API requests per update)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
