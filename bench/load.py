"""Benchmark: many users through webhook mode on two bot processes sharing PostgreSQL; then their memory.

    .venv/bin/python -m bench.load [--users 2000] [--processes 2] [--arrival 60,240] [--think 2]
                                   [--seed-users 100000] [--seed-events 1000] [--postgres-url URL]

The deployment of docker-compose.yml with `--profile scale`, on one machine: two real
`bildungslotse run` processes (TELEGRAM_MODE=webhook) on a fresh PostgreSQL database, a round-robin
proxy in front (tests/service_support.py), the Bot API stand-in (tests/telegram_standin.py) as
Telegram, POSTing every update to the proxy. Before the run the database gets `--seed-users` users
and `--seed-events` events, so the memory row answers "RSS with 100,000 users and 1,000 events".

Waves of users (one per `--arrival` value) arrive evenly over that many seconds; each answers the
four questions by button (/start, situation, district, sector, goal → results), waiting for each
answer and then `--think` seconds, as a person tapping would. Reply latency = the stand-in queues
the update → the first message or edit of the answer reaches the stand-in (Telegram's delivery, the
proxy, the turn, the send). Telegram's send limits are raised (the stand-in is no Telegram: 30
messages/s overall would measure the limiter); the per-chat limit stays as configured.

Errors: Bot API requests answered with an error, plus ERROR lines / tracebacks in the bots' logs.
Lost: an update whose answer did not come within 60 s. Memory: each process's resident set size
after the run, read from its own /metrics (process_resident_memory_bytes) and its peak (VmHWM);
`--heap-trim-seconds 0` runs the bots without the heap trim (bot/heap_trim.py), the baseline.
The driver (stand-in, proxy, users) shares the 2 cores with the bots: absolute rates are those of
this whole setup on one machine, not of the bots alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.ops_report import write_block  # noqa: E402
from bot.settings import Settings  # noqa: E402
from db import migrate  # noqa: E402
from db.engine import make_engine, session_scope  # noqa: E402
from tests.service_support import SECRET_HEADER, BotProcess, RoundRobinProxy, bot_env  # noqa: E402
from tests.telegram_standin import BotApiStandIn  # noqa: E402

FIRST_CHAT = 20_000_000
ANSWERS = ("sit:beschaeftigt", "dist:lueneburg", "sec:gesundheit", "goal:weiterbildung")
STEP_TIMEOUT = 60.0
DELIVERY_CONNECTIONS = 8
SEND_METHODS = {"sendmessage", "editmessagetext", "senddocument", "editmessagereplymarkup"}


class ObservedStandIn(BotApiStandIn):
    """The stand-in, telling each waiting user when something arrived in their chat (no polling)."""

    def __init__(self) -> None:
        super().__init__()
        self.version: dict[int, int] = {}
        self.arrived: dict[int, asyncio.Event] = {}
        self.errors: dict[str, int] = {}

    async def _deliver(self) -> None:
        """Like Telegram, several webhook requests at once (the bot allows 40); the base class sends one
        at a time, which would make the stand-in the bottleneck. A user has one update in flight at most,
        so each chat's order is kept."""
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(self._deliver_one_by_one(http) for _ in range(DELIVERY_CONNECTIONS)))

    async def _deliver_one_by_one(self, http: aiohttp.ClientSession) -> None:
        while not self._closing.is_set() and self.webhook.get("url"):
            if not self._pending:
                self._new_update.clear()
                await self._new_update.wait()
                continue
            update = self._pending.pop(0)
            headers = {SECRET_HEADER: self.webhook.get("secret_token") or ""}
            try:
                async with http.post(self.webhook["url"], json=update, headers=headers) as resp:
                    accepted = resp.status < 300
            except aiohttp.ClientError:
                accepted = False
            if not accepted:
                self._pending.insert(0, update)
                await asyncio.sleep(0.05)

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        call = self.calls[-1]  # ours: the base class appends it without yielding before it returns
        if call.status >= 400:
            key = f"{call.method} {call.status}"
            self.errors[key] = self.errors.get(key, 0) + 1
        elif call.method.lower() in SEND_METHODS:
            chat = call.params.get("chat_id")
            if isinstance(chat, int):
                self.version[chat] = self.version.get(chat, 0) + 1
                event = self.arrived.get(chat)
                if event is not None:
                    event.set()
        if len(self.calls) > 1000:  # a long run: keep memory flat, nobody reads old calls here
            del self.calls[:500]
        return response


def _with_button(api: BotApiStandIn, chat: int, prefixes: tuple[str, ...]) -> Any:
    for message in reversed(api.messages(chat)):
        for button in message.buttons:
            if (button.callback_data or "").split("|")[-1].startswith(prefixes):
                return message
    return None


class Users:
    def __init__(self, api: ObservedStandIn, think: float) -> None:
        self.api = api
        self.think = think
        self.latencies: list[float] = []
        self.lost = 0
        self.updates = 0
        self.finished = 0

    async def _answered(self, chat: int, since: int, expect: tuple[str, ...]) -> bool:
        event = self.api.arrived.setdefault(chat, asyncio.Event())
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            if self.api.version.get(chat, 0) > since and _with_button(self.api, chat, expect) is not None:
                return True
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return False

    async def one(self, chat: int, delay: float) -> None:
        await asyncio.sleep(delay)
        steps: list[tuple[str | None, tuple[str, ...]]] = [(None, ("sit:",))]
        for i, option in enumerate(ANSWERS):
            shown = (ANSWERS[i + 1].split(":")[0] + ":",) if i + 1 < len(ANSWERS) else ("offer:", "nav:")
            steps.append((option, shown))
        for answer, expect in steps:
            since = self.api.version.get(chat, 0)
            started = time.perf_counter()
            if answer is None:
                self.api.user_text(chat, "/start")
            else:
                message = _with_button(self.api, chat, (answer,))
                data = next(
                    b.callback_data for b in message.buttons if (b.callback_data or "").endswith(answer)
                )
                self.api.press(chat, message.message_id, data)
            self.updates += 1
            if not await self._answered(chat, since, expect):
                self.lost += 1
                return
            self.latencies.append(time.perf_counter() - started)
            await asyncio.sleep(self.think)
        self.finished += 1


def seed(url: str, users: int, events: int) -> None:
    """Users (with a conversation each, as after a dialog) and future events, the fast way (COPY)."""
    from db.events import upsert_events
    from knowledge.events import EventIn

    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        copy_sql = (
            "COPY users (transport, external_id, language, active, created_at, last_seen_at) FROM STDIN"
        )
        with cursor.copy(copy_sql) as copy:
            for i in range(users):
                seen = now - dt.timedelta(minutes=i % 50_000)
                copy.write_row(("telegram", str(1_000_000 + i), "de", True, seen, seen))
        raw.commit()
    finally:
        raw.close()
    towns = ("Lüneburg", "Uelzen", "Winsen (Luhe)", "Lüchow")
    batch = [
        EventIn.model_validate(
            {
                "id": f"bench-{i}",
                "title": f"Infotag {i}",
                "place": towns[i % 4],
                "start": (now + dt.timedelta(hours=6 + 2 * i)).isoformat(),
            }
        )
        for i in range(events)
    ]
    with session_scope(engine) as session:
        upsert_events(session, batch, now)
    engine.dispose()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def rss_mb(http: httpx.AsyncClient, port: str) -> float:
    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("process_resident_memory_bytes "):
            return float(line.split()[1]) / 2**20
    return 0.0


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wave(
    api: ObservedStandIn, args: argparse.Namespace, pids: list[int], first_chat: int, arrival: float
) -> dict[str, Any]:
    """`args.users` new users arriving evenly over `arrival` seconds, each through the whole dialog."""
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    driver_before = time.process_time()
    load_before = os.getloadavg()[0]
    users = Users(api, args.think)
    started = time.perf_counter()
    await asyncio.gather(*(users.one(first_chat + i, i * arrival / args.users) for i in range(args.users)))
    wall = time.perf_counter() - started
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    n = max(1, users.updates)
    return {
        "arrival_s": arrival,
        "offered_updates_per_s": round(users.updates / (arrival + len(ANSWERS) * args.think), 1),
        "updates": users.updates,
        "finished_users": users.finished,
        "lost": users.lost,
        "wall_s": round(wall, 1),
        "updates_per_s": round(users.updates / wall, 1),
        "latency_ms_p50": round(1000 * statistics.median(users.latencies), 1),
        "latency_ms_p95": round(1000 * _p(users.latencies, 0.95), 1),
        "latency_ms_max": round(1000 * max(users.latencies), 1),
        "bot_cpu_ms_per_update": round(1000 * cpu / n, 2),
        "driver_cpu_ms_per_update": round(1000 * (time.process_time() - driver_before) / n, 2),
        "machine_load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    admin = make_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    name = f"bl_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    procs: list[BotProcess] = []
    try:
        migrate.upgrade(url)
        t0 = time.perf_counter()
        seed(url, args.seed_users, args.seed_events)
        seeded = time.perf_counter() - t0
        async with ObservedStandIn() as api, RoundRobinProxy([]) as proxy, httpx.AsyncClient() as http:
            with tempfile.TemporaryDirectory() as cwd:
                for _ in range(args.processes):
                    env = bot_env(api, url, proxy.url, TELEGRAM_SEND_RATE="10000", LOG_LEVEL="WARNING")
                    if args.heap_trim_seconds is not None:
                        env["HEAP_TRIM_SECONDS"] = str(args.heap_trim_seconds)
                    proxy.backends.append(f"http://127.0.0.1:{env['TELEGRAM_WEBHOOK_PORT']}/telegram/hook")
                    procs.append(BotProcess(env, Path(cwd)))
                await asyncio.gather(*(p.start() for p in procs))
                async with asyncio.timeout(180):
                    await asyncio.gather(*(p.healthy(http) for p in procs))
                pids = [p.process.pid for p in procs if p.process is not None]
                rss_before = [await rss_mb(http, p.env["HTTP_PORT"]) for p in procs]
                waves = []
                for number, arrival in enumerate(args.arrival):
                    waves.append(await wave(api, args, pids, FIRST_CHAT + number * 1_000_000, arrival))
                rss_after = [await rss_mb(http, p.env["HTTP_PORT"]) for p in procs]
                peaks = [peak_rss_mb(pid) for pid in pids]
                routed = [sum(1 for b, _ in proxy.routed if b == i) for i in range(len(procs))]
                codes = [await p.stop() for p in procs]
        logs = b"".join(p.stderr for p in procs).decode(errors="replace")
        log_errors = sum(1 for line in logs.splitlines() if " ERROR " in line or "Traceback" in line)
        return {
            "users": args.users,
            "processes": args.processes,
            "think_s": args.think,
            "seed_users": args.seed_users,
            "seed_events": args.seed_events,
            "seed_s": round(seeded, 1),
            "waves": waves,
            "api_errors": api.errors,
            "log_errors": log_errors,
            "routed_per_process": routed,
            "heap_trim_seconds": args.heap_trim_seconds,
            "rss_mb_before": [round(v, 1) for v in rss_before],
            "rss_mb_after": [round(v, 1) for v in rss_after],
            "rss_mb_peak": [round(v, 1) for v in peaks],
            "exit_codes": codes,
        }
    finally:
        for p in procs:
            if p.process is not None and p.process.returncode is None:
                p.process.kill()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _mb(values: list[float]) -> str:
    return ", ".join(f"{v} MB" for v in values)


def _trim(seconds: int | None) -> str:
    if seconds == 0:
        return "heap trim off"
    return f"heap trim every {seconds or Settings.model_fields['heap_trim_seconds'].default} s"


def report(r: dict[str, Any]) -> str:
    errors = sum(r["api_errors"].values()) + r["log_errors"]
    lost = sum(w["lost"] for w in r["waves"])
    finished = sum(w["finished_users"] for w in r["waves"])
    rows = []
    for w in r["waves"]:
        rows.append(
            (
                f"load: {r['users']:,} users arriving over {w['arrival_s']:g} s",
                f"{w['updates_per_s']} updates/s (offered ≈ {w['offered_updates_per_s']}/s); reply latency "
                f"p50 {w['latency_ms_p50']} ms, p95 {w['latency_ms_p95']} ms, max {w['latency_ms_max']} ms; "
                f"CPU per update: bots {w['bot_cpu_ms_per_update']} ms, "
                f"driver {w['driver_cpu_ms_per_update']} ms; machine load average "
                f"{w['machine_load'][0]} → {w['machine_load'][1]}",
                "–",
                "–",
            )
        )
    rows.append(
        (
            "load: errors, lost updates (all waves)",
            f"{errors} errors, {lost} lost ({finished:,} dialogs to the results; "
            f"updates per process {r['routed_per_process']})",
            "0 and 0",
            "yes" if errors == 0 and lost == 0 else "**no**",
        )
    )
    rows.append(
        (
            "memory: RSS per process after the load run",
            f"{_mb(r['rss_mb_after'])} (peak {_mb(r['rss_mb_peak'])}; "
            f"{_mb(r['rss_mb_before'])} before the run; {_trim(r.get('heap_trim_seconds'))})",
            "≤ 150 MB",
            "yes" if max(r["rss_mb_after"]) <= 150 else "**no**",
        )
    )
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    return f"""### Service: load and memory (`python -m bench.load`)

Webhook mode on {r["processes"]} `bildungslotse run` processes sharing one PostgreSQL database, a round-robin
proxy in front, the Bot API stand-in as Telegram (8 webhook connections at once), all on the same 2-core
machine. Each wave: {r["users"]:,} new users arriving evenly, each answering the four questions by button
(/start + 4 taps = 5 updates) with {r["think_s"]:g} s between an answer and the next tap. The database was
seeded with {r["seed_users"]:,} users and {r["seed_events"]:,} events. {dt.date.today().isoformat()}.

| benchmark | result | target | met |
|---|---|---|---|
{table}

For scale: {r["users"]:,} users in an hour (a campaign) offer about {r["users"] * 5 / 3600:.1f} updates/s.
Latency: the stand-in queues an update → the first message or edit of the answer arrives (Telegram's
delivery, proxy, turn, send). When the offered rate exceeds what the machine serves, updates wait in
line and the latency is that wait. The driver (stand-in, proxy, 2,000 users) runs on the same two cores
as the bots; its CPU per update is shown beside theirs, and the machine's load average (other work on
the shared machine shows there: above 2 the bots did not have both cores). Errors: Bot API error answers
plus ERROR lines in the bots' logs. Lost: no answer within 60 s. Telegram's overall send limit is raised
for the run (the per-chat one is not).
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--arrival",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[60.0, 240.0],
        help="seconds over which each wave's users arrive, one wave per value (default 60,240)",
    )
    parser.add_argument("--think", type=float, default=2.0, help="seconds between an answer and the next tap")
    parser.add_argument(
        "--heap-trim-seconds",
        type=int,
        default=None,
        help="HEAP_TRIM_SECONDS of the bots (default: the product's default; 0 = no heap trim, the baseline)",
    )
    parser.add_argument("--seed-users", type=int, default=100_000)
    parser.add_argument("--seed-events", type=int, default=1_000)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a server where the benchmark may create and drop a database",
    )
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_block("service-load", report(result))


if __name__ == "__main__":
    main()
