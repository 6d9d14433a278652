"""Runs the built container image as an operator would and prints one PASS/FAIL line per check.

    .venv/bin/python -m tools.image_check --image bildungslotse:check [--postgres-url URL] [--keep]

Called by deploy/image-check.sh after it has an engine and an image (`make image-check` does both);
it needs a running Docker engine, the host's PostgreSQL and the project's dev virtualenv (aiohttp for
the Bot API stand-in). Never part of `make test`: CI has no container engine.

What an operator relies on, each a check: the image runs as uid 10001, /data is 0700, the bundled
offer base is in the image and valid, `db upgrade` reaches PostgreSQL, `bildungslotse run` in webhook
mode answers /healthz, Docker's own HEALTHCHECK turns the container healthy, a user's /start gets the
welcome and a whole dialog gets offers, and `docker stop` ends it with exit code 0 inside compose's
stop_grace_period. The partner console runs on the bridge network with a published port, as compose
runs it, with the image's default SQLite file in /data.

The containers of the webhook run use the host's network (the host's PostgreSQL and the stand-in
listen on 127.0.0.1 only); every address is on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import yaml

from handlers.catalogue import t
from tests.telegram_standin import BotApiStandIn, SentMessage, free_port

STOP_GRACE_SECONDS = 30  # docker-compose.yml: stop_grace_period
HEALTHY_WITHIN = 120.0  # the HEALTHCHECK's first probe runs one --interval (30 s) after the start
DIALOG = ("sit:beschaeftigt", "dist:lueneburg", "sec:gesundheit", "goal:weiterbildung")
CHAT = 4242
PREFIX = "bl-image-check"
HEAP_TRIMS = "bildungslotse_heap_trims_total "  # a sample line of /metrics
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Report:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f" — {detail}" if detail else ""), flush=True)
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


async def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """In a thread: the Bot API stand-in shares this event loop and must keep answering meanwhile."""
    return await asyncio.to_thread(
        subprocess.run, ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


async def inspect(container: str, template: str) -> str:
    return (await docker("inspect", "--format", template, container)).stdout.strip()


async def poll(fn: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await fn():
            return True
        await asyncio.sleep(every)
    return False


def with_database(admin_url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def recreate_database(admin_url: str, name: str, drop_only: bool = False) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def question_with(api: BotApiStandIn, prefix: str) -> SentMessage | None:
    for message in reversed(api.messages(CHAT)):
        if any((b.callback_data or "").split("|")[-1].startswith(prefix) for b in message.buttons):
            return message
    return None


def first_offer(text: str) -> str:
    return text.split("\n1. ", 1)[-1].splitlines()[0][:60]


def results_page(api: BotApiStandIn) -> SentMessage | None:
    """The message that lists offers (the last question, edited into the results)."""
    for message in reversed(api.messages(CHAT)):
        if any("|offer:" in (b.callback_data or "") for b in message.buttons):
            return message
    return None


async def image_facts(image: str, report: Report) -> None:
    uid = await docker("run", "--rm", "--entrypoint", "id", image)
    report.add(
        "runs as uid/gid 10001, not root",
        uid.stdout.startswith("uid=10001(bildungslotse) gid=10001(bildungslotse)"),
        uid.stdout.strip(),
    )
    mode = await docker("run", "--rm", "--entrypoint", "stat", image, "-c", "%a %U:%G", "/data")
    report.add(
        "/data is 0700 and the bot's",
        mode.stdout.strip().startswith("700 bildungslotse:"),
        mode.stdout.strip(),
    )
    check = await docker("run", "--rm", image, "knowledge", "check")
    report.add(
        "bundled offer base is in the image and valid (`knowledge check`)",
        check.returncode == 0,
        (check.stdout or check.stderr).strip().splitlines()[-1]
        if (check.stdout or check.stderr).strip()
        else "",
    )
    size = int(await inspect(image, "{{.Size}}") or 0)
    report.add("image size", size > 0, f"{size / 1e6:.0f} MB")


async def migrate(image: str, database_url: str, report: Report) -> bool:
    result = await docker(
        "run", "--rm", "--network", "host", "-e", f"DATABASE_URL={database_url}", image, "db", "upgrade"
    )
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        version = (
            conn.execute("SELECT version_num FROM alembic_version").fetchone() if row and row[0] else None
        )
    return report.add(
        "`db upgrade` in the container against the host's PostgreSQL",
        result.returncode == 0 and version is not None,
        f"exit {result.returncode}, schema version {version[0] if version else None}"
        + ("" if result.returncode == 0 else f": {result.stderr.strip()[-300:]}"),
    )


async def webhook_run(image: str, database_url: str, report: Report, keep: bool) -> None:
    name = f"{PREFIX}-run"
    await docker("rm", "-fv", name)
    http_port, hook_port = free_port(), free_port()
    async with BotApiStandIn() as api, httpx.AsyncClient(timeout=5) as http:
        env = {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/telegram/{secrets.token_hex(8)}",
            "TELEGRAM_WEBHOOK_SECRET": "image-check-" + secrets.token_hex(8),
            # host network: the image's 0.0.0.0 would open the ports on every interface of this machine
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(hook_port),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(http_port),
            "QUIET_HOURS": "",
        }
        env_args = [arg for k, v in env.items() for arg in ("-e", f"{k}={v}")]
        started = await docker("run", "-d", "--name", name, "--network", "host", *env_args, image)
        if not report.add(
            "`bildungslotse run` starts (webhook mode)", started.returncode == 0, started.stderr.strip()
        ):
            return
        t0 = time.monotonic()
        try:
            body: dict[str, object] = {}

            async def healthz() -> bool:
                nonlocal body
                try:
                    response = await http.get(f"http://127.0.0.1:{http_port}/healthz")
                except httpx.TransportError:
                    return False
                body = response.json()
                return response.status_code == 200

            ok = await poll(healthz, 90)
            report.add(
                "/healthz answers 200 with its JSON body",
                ok and body.get("status") == "ok",
                f"after {time.monotonic() - t0:.1f} s: {json.dumps(body, ensure_ascii=False)}",
            )
            async def trimmed() -> bool:
                metrics = (await http.get(f"http://127.0.0.1:{http_port}/metrics")).text
                counted = [line.split()[1] for line in metrics.splitlines() if line.startswith(HEAP_TRIMS)]
                return bool(counted) and float(counted[0]) >= 1

            report.add(
                "the heap trim runs in the image (glibc's malloc_trim found)",
                await poll(trimmed, 10),
                "bildungslotse_heap_trims_total ≥ 1 in /metrics within 10 s",
            )
            report.add(
                "the bot registered its webhook at the stand-in",
                api.webhook.get("url") == env["TELEGRAM_WEBHOOK_URL"],
                str(api.webhook.get("url")),
            )

            api.user_text(CHAT, "/start")
            welcome_start = t("de", "welcome").splitlines()[0]
            try:
                question = await api.wait_for(lambda: question_with(api, "sit:"), timeout=30)
                report.add(
                    "/start as a webhook update gets the welcome back",
                    question.text.startswith(welcome_start),
                    question.text.splitlines()[0][:80],
                )
                for option in DIALOG:
                    prefix = option.split(":")[0] + ":"
                    question = await api.wait_for(lambda p=prefix: question_with(api, p), timeout=30)  # type: ignore[misc]
                    data = next(
                        b.callback_data for b in question.buttons if (b.callback_data or "").endswith(option)
                    )
                    assert data is not None
                    api.press(CHAT, question.message_id, data)
                page = await api.wait_for(lambda: results_page(api), timeout=30)
                offers = [b for b in page.buttons if "|offer:" in (b.callback_data or "")]
                report.add(
                    "a whole dialog by buttons ends with offers from the bundled base",
                    len(offers) == 5 and "Ansprechpartner:" in page.text,
                    f"{len(offers)} offers, the first: {first_offer(page.text)}",
                )
            except TimeoutError:
                report.add(
                    "/start and a dialog get answers", False, f"bot sent {len(api.messages(CHAT))} messages"
                )

            async def healthy() -> bool:
                return await inspect(name, "{{.State.Health.Status}}") == "healthy"

            ok = await poll(healthy, max(0.0, HEALTHY_WITHIN - (time.monotonic() - t0)), every=1)
            report.add(
                "Docker's HEALTHCHECK turns the container healthy",
                ok,
                f"{await inspect(name, '{{.State.Health.Status}}')} after {time.monotonic() - t0:.0f} s",
            )

            t1 = time.monotonic()
            stop = await docker("stop", "-t", str(STOP_GRACE_SECONDS), name)
            took = time.monotonic() - t1
            code = await inspect(name, "{{.State.ExitCode}}")
            report.add(
                f"`docker stop` ends it cleanly within stop_grace_period ({STOP_GRACE_SECONDS} s)",
                stop.returncode == 0 and code == "0" and took < STOP_GRACE_SECONDS,
                f"exit code {code} after {took:.1f} s",
            )
            logs = await docker("logs", name)
            text = logs.stdout + logs.stderr
            bad = [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]
            report.add("no tracebacks or ERROR lines in the container's log", not bad, "; ".join(bad[:3]))
        finally:
            if not keep:
                await docker("rm", "-fv", name)


async def console_on_bridge(image: str, report: Report, keep: bool) -> None:
    """docker-compose.yml's `web` service: bridge network, published port, its healthcheck command."""
    name = f"{PREFIX}-web"
    await docker("rm", "-fv", name)
    port = free_port()
    started = await docker(
        "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8090",
        "-e", "WEB_HOST=0.0.0.0", "-e", "WEB_PORT=8090", "-e", f"WEB_SECRET_KEY={secrets.token_hex(32)}",
        image, "web",
    )  # fmt: skip
    if not report.add(
        "partner console starts on the bridge network (SQLite in /data)",
        started.returncode == 0,
        started.stderr.strip(),
    ):
        return
    try:
        status = 0

        async def login_page() -> bool:
            nonlocal status
            try:
                async with httpx.AsyncClient(timeout=5) as http:
                    status = (await http.get(f"http://127.0.0.1:{port}/anmelden")).status_code
            except httpx.TransportError:
                return False
            return status == 200

        ok = await poll(login_page, 60)
        report.add("console's /anmelden answers 200 through the published port", ok, f"HTTP {status}")
        compose = yaml.safe_load(ROOT.joinpath("docker-compose.yml").read_text(encoding="utf-8"))
        test = compose["services"]["web"]["healthcheck"]["test"]
        probe = await docker("exec", name, *test[1:])
        report.add(
            "compose's healthcheck command for `web` succeeds in the container",
            probe.returncode == 0,
            probe.stderr.strip()[-200:],
        )
        sqlite = await docker("exec", name, "stat", "-c", "%U %s", "/data/bildungslotse.sqlite3")
        report.add(
            "the default SQLite file is written to /data by the bot's user",
            sqlite.returncode == 0,
            sqlite.stdout.strip(),
        )
    finally:
        if not keep:
            await docker("rm", "-fv", name)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="bildungslotse:check")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test", help="an admin connection"
    )
    parser.add_argument(
        "--database", default="docker_check", help="created afresh (dropped first), dropped at the end"
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the containers and the database for a look"
    )
    args = parser.parse_args(argv)

    report = Report()
    await image_facts(args.image, report)
    await console_on_bridge(args.image, report, args.keep)
    recreate_database(args.postgres_url, args.database)
    database_url = with_database(args.postgres_url, args.database)
    try:
        if await migrate(args.image, database_url, report):
            await webhook_run(args.image, database_url, report, args.keep)
    finally:
        if not args.keep:
            recreate_database(args.postgres_url, args.database, drop_only=True)
    passed = sum(ok for _, ok, _ in report.checks)
    print(f"{'PASS' if report.passed else 'FAIL'}: {passed} of {len(report.checks)} checks passed")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
