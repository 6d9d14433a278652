"""Two or more real `bildungslotse run` processes behind a round-robin proxy (tests and bench/load.py).

The proxy plays nginx or Caddy in front of the webhook processes: each POST goes to the next process,
so one user's updates alternate between them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Protocol

import aiohttp
import httpx
from aiohttp import web

from tests.telegram_standin import free_port

ROOT = Path(__file__).resolve().parents[1]

SECRET = "multi_process-Secret1"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class RoundRobinProxy:
    """The reverse proxy: forwards each webhook POST to the next bot process (or always to one)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.only: int | None = None
        self._sent = 0
        self.routed: list[tuple[int, int]] = []  # (backend, chat) per accepted update
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/hook"

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        backend = self.only if self.only is not None else self._sent % len(self.backends)
        self._sent += 1
        headers = {k: request.headers[k] for k in (SECRET_HEADER, "Content-Type") if k in request.headers}
        try:
            async with self._http.post(self.backends[backend], data=body, headers=headers) as resp:
                status = resp.status
        except aiohttp.ClientError:
            return web.Response(status=502)  # that process is not up yet: Telegram tries again
        if status == 200:
            update = json.loads(body)
            chat = (update.get("message") or update.get("callback_query", {}).get("message", {}))["chat"][
                "id"
            ]
            self.routed.append((backend, chat))
        return web.Response(status=status)

    async def __aenter__(self) -> RoundRobinProxy:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/telegram/hook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None and self._http is not None
        await self._runner.cleanup()
        await self._http.close()


class BotProcess:
    """`bildungslotse run` (or, for bench/dialog_webhook.py, another module given as `command`)."""

    def __init__(self, env: dict[str, str], cwd: Path, command: tuple[str, ...] = ("bot.cli", "run")) -> None:
        self.env, self.cwd, self.command = env, cwd, command
        self.health = f"http://127.0.0.1:{env['HTTP_PORT']}/healthz"
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = b""

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def healthy(self, http: httpx.AsyncClient) -> None:
        assert self.process is not None
        while True:
            if self.process.returncode is not None:
                _, err = await self.process.communicate()
                raise AssertionError(f"bot process ended: {err.decode()[-2000:]}")
            try:
                if (await http.get(self.health)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, self.stderr = await asyncio.wait_for(self.process.communicate(), 60)
        return self.process.returncode or 0


class ApiAddress(Protocol):
    """Where the Bot API is: the stand-in itself, or its address when it runs in another process."""

    token: str

    @property
    def base_url(self) -> str: ...


def bot_env(api: ApiAddress, database_url: str, public_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_", "HTTP_", "BL_TEST"))
    }
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL=public_url,  # the proxy's address: both processes register the same
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_WEBHOOK_PORT=str(free_port()),
        TELEGRAM_SEND_RATE="1000",
        TELEGRAM_PER_CHAT_RATE="50",
        HTTP_PORT=str(free_port()),
        QUIET_HOURS="",  # the fan-out goes out whatever the hour this test runs at
        LOG_LEVEL="INFO",
        # this checkout's code, not wherever the venv's editable install points (a second worktree)
        PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    )
    env.update(extra)
    return env
