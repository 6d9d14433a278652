"""The dialog ratio with two processes per bot: webhook mode behind a round-robin proxy, PostgreSQL.

    .venv/bin/python -m bench.dialog --processes 2 --database-url postgresql://… [--rounds 3]

`bench.dialog` measures one bot process that polls; this is the deployment of docker-compose.yml's
`scale` profile instead. Both bots run as two real processes each: the whole bot as
`bildungslotse run` (TELEGRAM_MODE=webhook, our own webhook server), the bare PTB bot
(`bench.bare_bot`) with PTB's own webhook server (`Updater.start_webhook`, the same secret-header
check). The round-robin proxy of tests/service_support.py (this process) hands each POST to the next
process; the Bot API stand-in runs in a process of its own and POSTs every update to the proxy,
several at once, as Telegram does. The stand-in also plays the users: 50 of them at once, each
sending the next update of the "taps" script as soon as the answer to the previous one arrived
(the first message or edit in that chat after the update was sent; both bots answer every update of
this script with exactly one), each user the same number of updates (updates ÷ users), so that both
bots get exactly the same updates. Measured per turn: the CPU time of both bot processes from
/proc/<pid>/stat between the first update and the last answer, divided by the updates; the warm-up
before it is not counted, nor are the proxy and the stand-in (the same for both bots). Rounds, pairs
and report fields as in `bench.dialog`; send limits lifted and the flood guard off there as here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench.dialog import (
    BARE_CLIENTS,
    COUNTED,
    KINDS,
    LIFTED,
    SCRIPTS,
    Driver,
    Phase,
    pipe_messages,
    start_standin,
    stop_standin,
)
from bench.dialog import summarize as summarize_turns
from bench.load import SEND_METHODS, ObservedStandIn, cpu_seconds
from tests.service_support import BotProcess, RoundRobinProxy, bot_env

ROOT = Path(__file__).resolve().parents[1]
STALL = 30.0  # seconds without a single answer: the run has failed (a bot died or dropped updates)
HOOK_PATH = "/telegram/hook"
WARMUP_CHATS = 10_000  # the warm-up's users: the measured ones + this (fresh ones too)
COMMANDS = {"whole": ("bot.cli", "run"), **{kind: ("bench.bare_bot",) for kind in BARE_CLIENTS}}


# --- the users' side (the stand-in's process) ----------------------------------------------------
@dataclass
class _Run:
    """One phase: each user's next update as soon as its previous one is answered, until every user
    has sent its share of `target` (the same share for both bots: the same updates, the same mix)."""

    target: int
    driver: Driver
    done: int = 0
    left: dict[int, int] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self, chats: list[int]) -> None:
        for i, chat in enumerate(chats):
            self.left[chat] = self.target // len(chats) + (i < self.target % len(chats))
        for chat in chats:
            if self.left[chat]:
                self.issue(chat)

    def issue(self, chat: int) -> None:
        self.waiting.add(chat)
        self.left[chat] -= 1
        self.driver.next(chat)

    def answered(self, chat: int) -> None:
        self.waiting.discard(chat)
        self.done += 1
        if self.left[chat]:
            self.issue(chat)
        elif self.done == self.target:
            self.finished.set()


class DrivenStandIn(ObservedStandIn):
    """The stand-in that sees every answer arrive, so the users need no word from the bot processes."""

    def __init__(self) -> None:
        super().__init__()
        self.driver = Driver(self, SCRIPTS["taps"])
        self.requests = 0
        self.run: _Run | None = None

    async def _handle(self, request: Any) -> Any:
        response = await super()._handle(request)
        call = self.calls[-1]  # ours: nothing yields between the append and here
        method = call.method.lower()
        if method in _COUNTED:
            self.requests += 1
        chat = call.params.get("chat_id")
        if self.run is not None and method in SEND_METHODS and call.status < 400 and chat in self.run.waiting:
            self.run.answered(chat)
        return response

    async def drive(self, target: int, chats: list[int]) -> tuple[int, float, int]:
        """(updates answered, seconds, Bot API requests) — fewer answered than `target` if it stalled."""
        self.run = run = _Run(target, self.driver)
        requests = self.requests
        started = time.perf_counter()
        run.start(chats)
        progress = -1
        while not run.finished.is_set() and run.done > progress:
            progress = run.done
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.finished.wait(), STALL)
        wall = time.perf_counter() - started
        self.run = None
        return run.done, wall, self.requests - requests


_COUNTED = {m.lower() for m in COUNTED}


def _standin_process(conn: Connection) -> None:
    asyncio.run(_serve_standin(conn))


async def _serve_standin(conn: Connection) -> None:
    api = DrivenStandIn()
    async with api, contextlib.aclosing(pipe_messages(conn)) as inbox:
        conn.send(("ready", api.base_url, api.token))
        async for message in inbox:
            if message[0] == "drive":
                conn.send(("driven", *(await api.drive(message[1], message[2])), dict(api.errors)))
            elif message[0] == "stop":
                conn.send(("stopped", (api.driver.diverged, api.errors)))
                break


# --- the bots (processes of their own, measured from /proc) --------------------------------------
@dataclass
class _Address:
    token: str
    base_url: str


async def _listening(process: BotProcess, http: httpx.AsyncClient) -> None:
    """Both webhook servers refuse a request without the secret header with 403: then they are up."""
    assert process.process is not None
    url = f"http://127.0.0.1:{process.env['TELEGRAM_WEBHOOK_PORT']}{HOOK_PATH}"
    while True:
        if process.process.returncode is not None:
            _, err = await process.process.communicate()
            raise RuntimeError(f"bot process ended: {err.decode(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if (await http.post(url, json={})).status_code == 403:
                return
        await asyncio.sleep(0.1)


def _processes(
    kind: str, api: _Address, database_url: str, proxy_url: str, cwd: Path, n: int
) -> list[BotProcess]:
    lifted = {key.upper(): str(value) for key, value in LIFTED.items()}
    procs = []
    for _ in range(n):
        env = bot_env(
            api,
            database_url,
            proxy_url,
            LOG_LEVEL="WARNING",
            COURSE_SEARCH="off",  # as in bench.dialog: the stand-in serves only the Bot API
            PYTHONPATH=str(ROOT),  # this checkout, not whatever the venv's editable install points at
            BARE_CLIENT=BARE_CLIENTS.get(kind, ""),
            **lifted,
        )
        procs.append(BotProcess(env, cwd, COMMANDS[kind]))
    return procs


class _Profiler:
    """`--profile whole|bare`: py-spy (from PyPI, on PATH or PY_SPY) samples each process of that bot
    during the measured phases (not the warm-up); the collapsed stacks go to `directory`."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind, self.directory = kind, directory
        self.binary = os.environ.get("PY_SPY") or shutil.which("py-spy") or ""
        if kind and not self.binary:
            raise SystemExit("--profile with --processes 2 needs py-spy (pip install py-spy, or PY_SPY=path)")
        self.files: list[Path] = []
        self._running: list[asyncio.subprocess.Process] = []

    async def start(self, kind: str, round_no: int, pids: list[int]) -> None:
        if kind != self.kind or not round_no:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for pid in pids:
            path = self.directory / f"profile-{kind}-round{round_no}-{pid}.txt"
            self.files.append(path)
            args = ("record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nonblocking", "--gil")
            self._running.append(
                await asyncio.create_subprocess_exec(
                    self.binary,
                    *args,
                    "--output",
                    str(path),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
        await asyncio.sleep(0.5)  # py-spy attaches

    async def stop(self) -> None:
        for process in self._running:
            process.send_signal(signal.SIGINT)
        await asyncio.gather(*(process.wait() for process in self._running))
        self._running.clear()

    def report(self, top: int = 30) -> str:
        """Share of the samples (threads holding the GIL: Python at work) per function, where the time
        was spent (self) and below it (total), and per package (self)."""
        own: Counter[str] = Counter()
        total: Counter[str] = Counter()
        packages: Counter[str] = Counter()
        samples = 0
        for path in self.files:
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                stack, _, count = line.rpartition(" ")
                if not count.isdigit():
                    continue
                frames = [_frame(f) for f in stack.split(";")]
                samples += int(count)
                own[frames[-1]] += int(count)
                packages[_package(stack.rsplit(";", 1)[-1])] += int(count)
                for frame in set(frames):
                    total[frame] += int(count)
        if not samples:
            return "no samples"
        lines = [f"{samples} samples of the {self.kind} bot's processes ({len(self.files)} files)", "self:"]
        lines += [f"  {100 * n / samples:5.1f} %  {name}" for name, n in own.most_common(top)]
        lines.append("self, per package:")
        lines += [f"  {100 * n / samples:5.1f} %  {name}" for name, n in packages.most_common(top)]
        lines.append("total (with what it calls; the frames under everything left out):")
        common = [(name, n) for name, n in total.most_common() if n < 0.6 * samples]
        lines += [f"  {100 * n / samples:5.1f} %  {name}" for name, n in common[:top]]
        return "\n".join(lines)


def _package(frame: str) -> str:
    """The top-level package of a frame's file ("psycopg", "telegram", "bot", "asyncio", …)."""
    path = frame.partition(" (")[2].rsplit(":", 1)[0]
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part in ("site-packages", "python3.11"):
            return parts[i + 1].removesuffix(".py") if i + 1 < len(parts) else path
    return parts[0].removesuffix(".py")


def _frame(frame: str) -> str:
    """py-spy's "function (path/to/module.py:line)" as "function (module.py)": lines apart, summed."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0].rstrip(')')})"


def _log_errors(stderr: bytes) -> int:
    lines = stderr.decode(errors="replace").splitlines()
    return sum(1 for line in lines if " ERROR " in line or " CRITICAL " in line or "Traceback" in line)


class _Turns:
    """Starts a bot's processes, warms them up, measures one phase, stops them."""

    def __init__(
        self,
        conn: Connection,
        api: _Address,
        database_url: str,
        processes: int,
        updates: int,
        profiler: _Profiler,
    ) -> None:
        self.conn, self.api, self.database_url = conn, api, database_url
        self.processes, self.updates, self.profiler = processes, updates, profiler
        self.log_errors = 0
        self.exit_codes: list[int] = []
        self.routed: dict[str, list[int]] = {}

    async def _drive(self, target: int, chats: list[int]) -> tuple[int, float, int]:
        self.conn.send(("drive", target, chats))
        _, done, wall, requests, errors = await asyncio.to_thread(self.conn.recv)
        if done < target:
            raise RuntimeError(
                f"only {done} of {target} updates answered (no answer for {STALL:g} s); "
                f"Bot API errors so far: {errors or 'none'}"
            )
        return done, wall, requests

    async def turn(
        self,
        kind: str,
        round_no: int,
        proxy: RoundRobinProxy,
        http: httpx.AsyncClient,
        cwd: Path,
        chats: list[int],
    ) -> tuple[Phase, int]:
        procs = _processes(kind, self.api, self.database_url, proxy.url, cwd, self.processes)
        proxy.backends[:] = [f"http://127.0.0.1:{p.env['TELEGRAM_WEBHOOK_PORT']}{HOOK_PATH}" for p in procs]
        try:
            await asyncio.gather(*(p.start() for p in procs))
            async with asyncio.timeout(180):
                await asyncio.gather(*(_listening(p, http) for p in procs))
            # warm-up (not counted): every user's first two updates, all at once, so that the
            # processes' connection pools and caches are as full as in the measured phase
            await self._drive(2 * len(chats), [chat + WARMUP_CHATS for chat in chats])
            pids = [p.process.pid for p in procs if p.process is not None]
            proxy.routed.clear()
            await self.profiler.start(kind, round_no, pids)
            cpu = sum(cpu_seconds(pid) for pid in pids)
            done, wall, requests = await self._drive(self.updates, chats)
            cpu = sum(cpu_seconds(pid) for pid in pids) - cpu
            self.routed[kind] = [sum(1 for b, _ in proxy.routed if b == i) for i in range(len(procs))]
        finally:
            await self.profiler.stop()
            self.exit_codes += await asyncio.gather(*(p.stop() for p in procs if p.process is not None))
            self.log_errors += sum(_log_errors(p.stderr) for p in procs)
        return Phase(done, done=done, cpu=cpu, wall=wall), requests


async def bench_processes(
    users: int, updates: int, rounds: int, database_url: str, processes: int = 2, profile: str = ""
) -> dict[str, Any]:
    from db import migrate

    migrate.upgrade(database_url)
    child, conn, base_url, token = await start_standin(_standin_process)
    profiler = _Profiler(profile, ROOT / ".bench")
    turns = _Turns(conn, _Address(token, base_url), database_url, processes, updates, profiler)
    samples: dict[str, list[Phase]] = {kind: [] for kind in KINDS}
    requests: dict[str, float] = {}
    chat_base = 1_000_000
    try:
        async with RoundRobinProxy([]) as proxy, httpx.AsyncClient(timeout=5) as http:
            with tempfile.TemporaryDirectory() as cwd:
                for round_no in range(rounds + 1):  # round 0 warms up both (imports, caches): not counted
                    for kind in KINDS:
                        chat_base += (
                            2 * WARMUP_CHATS
                        )  # fresh users each turn: both bots see the same script from the top
                        chats = list(range(chat_base, chat_base + users))
                        phase, requests[kind] = await turns.turn(
                            kind, round_no, proxy, http, Path(cwd), chats
                        )
                        if round_no:
                            samples[kind].append(phase)
                        print(
                            f"round {round_no} {kind}: {phase.cpu / phase.target * 1000:.3f} ms CPU/update, "
                            f"{phase.target / phase.wall:.1f} updates/s",
                            file=sys.stderr,
                        )
    finally:
        diverged, api_errors = await stop_standin(child, conn)
    if profile:
        print(profiler.report(), file=sys.stderr)
    result = summarize_turns(samples, requests, "postgresql", users, updates, rounds, int(diverged))
    return {
        **result,
        "processes": processes,
        "api_errors": dict(api_errors),
        "log_errors": turns.log_errors,
        "updates_per_process": turns.routed,
        "exit_codes": turns.exit_codes,
    }
