"""The webhook endpoint: Telegram POSTs updates here; they go into PTB's update queue.

Why not PTB's own webhook server (`Updater.start_webhook`): its Tornado handler is not streaming,
so Tornado reads the whole body (up to Tornado's 100 MB default) into memory *before* the handler
checks the secret header, and the secret is compared with `!=`. Anybody who can reach the port
could make the bot buffer 100 MB per request. This small Tornado handler (Tornado comes with
PTB's `webhooks` extra) decides on the headers alone, before a single body byte is read:

- no or wrong `X-Telegram-Bot-Api-Secret-Token` -> 403, compared in constant time;
- a body over `MAX_BODY` bytes (Content-Length, or while streaming) -> 413;
- anything but `application/json` -> 415.

Back-pressure: while `TELEGRAM_MAX_PENDING_UPDATES` updates are in progress, a valid update is held
at the door (Telegram waits, sending at most its max_connections at once) and, after `HOLD_SECONDS`,
refused with 503 without being queued, so Telegram delivers it again later: no duplicate, no loss,
and a campaign's burst waits at Telegram instead of in this process's memory.

A rejected request's connection is closed without reading its body (Tornado's behaviour when a
handler finishes early). A valid update is parsed with `Update.de_json` and queued exactly as PTB
would; PTB's update processor (`bot.telegram.ordering`) takes it from there.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Bot, Update
from tornado.httpserver import HTTPServer

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Telegram's updates are a few KB; 1 MB leaves room for any real one
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HOLD_SECONDS = 10.0  # well below Telegram's own wait for a webhook answer


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self, bot: Bot, queue: asyncio.Queue[object], secret: str, room: Callable[[], Awaitable[bool]]
    ) -> None:
        self.bot = bot
        self.queue = queue
        self.room = room
        self.secret = secret.encode()
        self.chunks: list[bytes] = []
        self.size = 0
        self.done = False

    def _refuse(self, status: HTTPStatus) -> None:
        self.done = True
        self.set_status(status)
        self.finish()

    def prepare(self) -> None:
        """Runs on the headers alone: no body byte has been read yet."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.secret):
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)

    def data_received(self, chunk: bytes) -> None:
        if self.done:
            return
        self.size += len(chunk)
        if self.size > MAX_BODY:  # a chunked body without Content-Length
            self.chunks.clear()
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self.chunks.append(chunk)

    async def post(self) -> None:
        if self.done:
            return
        try:
            data: Any = json.loads(b"".join(self.chunks))
            update = Update.de_json(data, self.bot)
        except Exception:  # never log the body: it holds a user's message
            log.warning("webhook: an update could not be parsed and was refused")
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        if update is not None:
            if not await self.room():  # saturated for a while: Telegram delivers it again later
                self._refuse(HTTPStatus.SERVICE_UNAVAILABLE)
                return
            await self.queue.put(update)
        self.done = True
        self.set_status(HTTPStatus.OK)
        self.finish()

    def log_exception(self, *args: Any) -> None:
        """Tornado's default would log the request; ours never logs headers (the secret) or bodies."""
        log.debug("webhook handler error", exc_info=False)


class WebhookServer:
    """Tornado's HTTP server on `listen:port`, serving `path` only."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        secret: str,
        path: str,
        room: Callable[[], Awaitable[bool]],
    ) -> None:
        app = tornado.web.Application(
            [
                (
                    rf"/{re.escape(path.strip('/'))}/?",
                    UpdateHandler,
                    {"bot": bot, "queue": queue, "secret": secret, "room": room},
                )
            ],
            log_function=lambda handler: None,  # no access log: the path is the only thing in it
        )
        self._server = HTTPServer(
            app,
            max_body_size=MAX_BODY,  # a backstop; the handler refuses earlier with a proper 413
            max_header_size=16 * 1024,
            body_timeout=30,
            idle_connection_timeout=75,
        )

    def listen(self, listen: str, port: int) -> None:
        self._server.listen(port, address=listen)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
