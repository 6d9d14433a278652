"""uvicorn inside the bot's event loop, started and stopped by `bot.runner` like a transport.

Two things uvicorn would otherwise do that a bot must not: install its own SIGINT/SIGTERM handlers
(the runner owns shutdown; `capture_signals` is switched off) and exit the process when the port is
taken (we bind the socket ourselves, so a busy port is one clear start-up error). `log_config=None`
leaves our logging alone; there is no access log (paths and client addresses are noise here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class HttpStartError(Exception):
    """The HTTP port cannot be opened; the message is one line for the operator."""


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.host, self.port = host, port
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off", server_header=False
        )
        self._server = _InLoopServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.create_server((self.host, self.port), family=family)
        except OSError as exc:
            raise HttpStartError(
                f"HTTP_HOST/HTTP_PORT: {self.host}:{self.port} kann nicht geöffnet werden "
                f"({exc.strerror or exc})."
            ) from None
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raises what went wrong
                raise HttpStartError("HTTP-Server hat nicht gestartet.")
            await asyncio.sleep(0.01)
        log.info("Gesundheit und Metriken auf http://%s:%d/healthz und /metrics", self.host, self.port)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            log.warning("HTTP server did not stop in time")
