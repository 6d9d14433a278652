"""A local stand-in for the Telegram Bot API: real HTTP on 127.0.0.1, real wire format.

The bot under test talks to it exactly as to api.telegram.org (point `TELEGRAM_API_BASE_URL` at
`standin.base_url`); the test plays the users and reads what the bot sent.

Usage::

    async with BotApiStandIn() as api:                 # random free port on 127.0.0.1
        settings = Settings(telegram_bot_token=api.token, telegram_api_base_url=api.base_url)
        ...start the bot...
        api.user_text(42, "/start")                    # user 42 writes (private chat 42)
        msg = await api.wait_for(lambda: api.last_message(42))
        api.press(42, msg.message_id, msg.buttons[0].callback_data)
        api.inject("sendMessage", status=429, retry_after=1)   # next sendMessage is refused once

Users:   `user_text`, `press`, `user_location`, `user_media` ("sticker", "photo", "voice",
         "document"), or `enqueue(update)` for a raw update dict. Group chats: pass
         `chat_type="group"` and a negative chat id. Every helper returns the update it queued.
Records: `messages(chat_id)` (what the bot sent there, edits applied, in order), `last_message`,
         `calls` (every API call with parsed parameters and the HTTP status answered),
         `answers` (answerCallbackQuery by query id), `commands` / `menus` (setMyCommands, default /
         by language), `webhook` (url and secret_token of setWebhook).
Faults:  `inject(method, status=429|403|502|…, retry_after=N, delay=seconds, times=1, chat_id=None)`,
         `clear_faults()`;
         `block(chat_id)` makes every send to that chat fail with 403 like a user who blocked the bot.
Waiting: `await wait_for(fn, timeout)` re-evaluates `fn` after every request and returns its
         first truthy result (raises TimeoutError otherwise).

Updates are served by long polling (getUpdates with offsets, as Telegram does) or, after
setWebhook, POSTed one by one to the webhook URL with the X-Telegram-Bot-Api-Secret-Token header.
It validates what Telegram validates and the bot could get wrong: text length (4096 UTF-16 code
units, as Telegram counts: an emoji outside the BMP is two), empty
text, callback data (1–64 bytes), URL buttons (http/https), editing unknown messages and
"message is not modified".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

DEFAULT_TOKEN = "123456789:AAH-standin-secret-token-abcdefghijk"
DEFAULT_USERNAME = "bildungslotse_test_bot"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "commands",
        "allowed_updates",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
    }
)
_SCALAR_KEYS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "show_alert",
        "cache_time",
        "drop_pending_updates",
        "disable_notification",
        "max_connections",
    }
)
_SEND_METHODS = frozenset({"sendmessage", "senddocument", "editmessagetext", "editmessagereplymarkup"})
T = TypeVar("T")


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """One message of the bot in one chat, as it currently looks (edits applied)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    document: tuple[str, bytes] | None = None  # (file name, content) for sendDocument
    edits: int = 0
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def keyboard(self) -> list[list[Button]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row] for row in rows
        ]

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.keyboard for b in row]

    def button(self, text: str) -> Button:
        """The button with this label (exact match), or KeyError."""
        for b in self.buttons:
            if b.text == text:
                return b
        raise KeyError(text)


@dataclass(frozen=True)
class Call:
    method: str  # as the bot spelled it, e.g. "sendMessage"
    params: dict[str, Any]
    status: int  # HTTP status the stand-in answered


@dataclass
class Fault:
    method: str  # lower case
    status: int  # 0: no error, only the delay
    retry_after: int | None
    description: str
    delay: float
    times: int
    chat_id: int | None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that need a fixed port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotApiStandIn:
    def __init__(self, token: str = DEFAULT_TOKEN, username: str = DEFAULT_USERNAME) -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.calls: list[Call] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.menus: dict[str, list[dict[str, Any]]] = {}  # setMyCommands by language_code ("" = default)
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self._faults: list[Fault] = []
        self._pending: list[dict[str, Any]] = []
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._queries: dict[str, int] = {}  # open callback query id -> chat id
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._new_update = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self.port = 0

    # --- life cycle ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Server root for TELEGRAM_API_BASE_URL (the bot appends /bot<token>/<method>)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self._closing.set()
        self._new_update.set()
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- the users' side -----------------------------------------------------------------
    def _user(self, user_id: int, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"Nutzer{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def _chat(chat_id: int, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": f"Nutzer{chat_id}"}
        return {"id": chat_id, "type": chat_type, "title": f"Gruppe {chat_id}"}

    def _message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues a raw update (an update_id is added if missing)."""
        update.setdefault("update_id", next(self._update_ids))
        self._pending.append(update)
        self._new_update.set()
        return update

    def _user_message(
        self,
        chat_id: int,
        content: dict[str, Any],
        from_id: int | None,
        chat_type: str,
        language_code: str | None,
        reply_to: int | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": self._user(from_id if from_id is not None else chat_id, language_code),
            **content,
        }
        if reply_to is not None:
            sent = self._messages.get(chat_id, {}).get(reply_to)
            if sent is not None:
                message["reply_to_message"] = self._bot_message_json(sent)
        return self.enqueue({"message": message})

    def user_text(
        self,
        chat_id: int,
        text: str,
        *,
        from_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "de",
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A text message; a leading /command and @mentions get their entities like in the apps."""
        entities: list[dict[str, Any]] = []
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if first.startswith("/") and len(first) > 1:
            entities.append({"type": "bot_command", "offset": 0, "length": len(first)})
        start = 0
        while (pos := text.find("@", start)) != -1:
            end = pos + 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            if end - pos > 1 and not (entities and pos < entities[0]["length"]):
                entities.append({"type": "mention", "offset": pos, "length": end - pos})
            start = end
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._user_message(chat_id, content, from_id, chat_type, language_code, reply_to)

    def user_location(
        self, chat_id: int, lat: float, lon: float, *, from_id: int | None = None, chat_type: str = "private"
    ) -> dict[str, Any]:
        content = {"location": {"latitude": lat, "longitude": lon}}
        return self._user_message(chat_id, content, from_id, chat_type, "de", None)

    def user_media(
        self, chat_id: int, kind: str, *, from_id: int | None = None, chat_type: str = "private"
    ) -> dict[str, Any]:
        """kind: sticker, photo, voice or document."""
        file = {"file_id": f"file-{kind}-{chat_id}", "file_unique_id": f"u-{kind}-{chat_id}"}
        payloads: dict[str, Any] = {
            "sticker": {
                **file,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
            "photo": [{**file, "width": 640, "height": 480}],
            "voice": {**file, "duration": 2},
            "document": {**file, "file_name": "lebenslauf.pdf"},
        }
        return self._user_message(chat_id, {kind: payloads[kind]}, from_id, chat_type, "de", None)

    def press(
        self, chat_id: int, message_id: int, callback_data: str, *, from_id: int | None = None
    ) -> dict[str, Any]:
        """The user taps an inline button (any data may be sent: forged presses are a test case)."""
        sent = self._messages.get(chat_id, {}).get(message_id)
        message = (
            self._bot_message_json(sent)
            if sent is not None
            else {"message_id": message_id, "date": 0, "chat": self._chat(chat_id, "private")}
        )
        query_id = f"{chat_id}-{next(self._query_ids)}"
        self._queries[query_id] = chat_id
        query = {
            "id": query_id,
            "from": self._user(from_id if from_id is not None else chat_id, "de"),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": callback_data,
        }
        return self.enqueue({"callback_query": query})

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    # --- what the bot did ------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self._messages.get(chat_id, {}).values())

    def last_message(self, chat_id: int) -> SentMessage | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The default command menu (no language_code)."""
        return self.menus.get("", [])

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> int:
        return len(self._pending)

    async def wait_for(self, fn: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Returns fn()'s first truthy value, checking after every request the bot makes."""

        async def _wait() -> T:
            async with self._changed:
                while True:
                    value = fn()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    # --- faults ---------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        *,
        status: int = 0,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) are delayed and/or fail."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                502: "Bad Gateway",
                500: "Internal Server Error",
            }.get(status, f"Error {status}")
        self._faults.append(Fault(method.lower(), status, retry_after, description, delay, times, chat_id))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, params.get("chat_id")):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- HTTP ------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and (key in _JSON_KEYS or key in _SCALAR_KEYS):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        spelled = request.match_info["method"]
        method = spelled.lower()
        try:
            params = await self._params(request)
        except (ValueError, aiohttp.ContentTypeError):
            return self._error(400, "Bad Request: can't parse request body")
        fault = self._take_fault(method, params)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status:
            response = self._error(fault.status, fault.description, fault.retry_after)
        elif method in _SEND_METHODS and params.get("chat_id") in self.blocked:
            response = self._error(403, "Forbidden: bot was blocked by the user")
        else:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                response = self._error(404, "Not Found")
            else:
                try:
                    response = self._ok(await handler(params))
                except _ApiError as exc:
                    response = self._error(exc.status, exc.description)
        self.calls.append(Call(spelled, params, response.status))
        async with self._changed:
            self._changed.notify_all()
        return response

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    # --- Bot API methods ------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Bildungslotse", "username": self.username}

    def _bot_message_json(self, sent: SentMessage) -> dict[str, Any]:
        chat_type = "private" if sent.chat_id > 0 else "supergroup"
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": self._chat(sent.chat_id, chat_type),
            "from": self._bot_user(),
        }
        if sent.document is not None:
            message["document"] = {
                "file_id": f"doc{sent.message_id}",
                "file_unique_id": f"d{sent.message_id}",
                "file_name": sent.document[0],
            }
            if sent.text:
                message["caption"] = sent.text
        else:
            message["text"] = sent.text
        if sent.edits:
            message["edit_date"] = int(time.time())
        if sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup in (None, "", {}):
            return None
        if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise _ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                data, url = button.get("callback_data"), button.get("url")
                if (data is None) == (url is None):
                    raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if url is not None and not url.startswith(("http://", "https://", "tg://")):
                    raise _ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return markup

    @staticmethod
    def _check_text(text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _store(self, sent: SentMessage) -> dict[str, Any]:
        self._messages.setdefault(sent.chat_id, {})[sent.message_id] = sent
        return self._bot_message_json(sent)

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._pending and timeout > 0 and not self._closing.is_set():
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self._pending[:limit]

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        text = self._check_text(params.get("text"))
        markup = self._check_markup(params.get("reply_markup"))
        return self._store(SentMessage(chat_id, self._message_id(chat_id), text, markup))

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        document = params.get("document")
        if not isinstance(document, tuple):
            raise _ApiError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption") or ""
        markup = self._check_markup(params.get("reply_markup"))
        return self._store(SentMessage(chat_id, self._message_id(chat_id), caption, markup, document))

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        chat_id = self._chat_id(params)
        sent = self._messages.get(chat_id, {}).get(params.get("message_id"))  # type: ignore[arg-type]
        if sent is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return sent

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        sent = self._editable(params)
        text = self._check_text(params.get("text"))
        markup = self._check_markup(params.get("reply_markup"))
        if sent.document is not None:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if text == sent.text and markup == sent.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        sent.text, sent.reply_markup = text, markup
        sent.edits += 1
        return self._bot_message_json(sent)

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        sent = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == sent.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        sent.reply_markup = markup
        sent.edits += 1
        return self._bot_message_json(sent)

    async def _m_deletemessage(self, params: dict[str, Any]) -> Any:
        sent = self._editable(params)
        del self._messages[sent.chat_id][sent.message_id]
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or query_id in self.answers:
            raise _ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self.answers[query_id] = params
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (1 <= len(name) <= 32 and name == name.lower() and name.replace("_", "").isalnum()):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: command description is empty")
        self.menus[str(params.get("language_code") or "")] = commands
        return True

    async def _m_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.menus.get(str(params.get("language_code") or ""), [])

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise _ApiError(400, "Bad Request: bad webhook: invalid webhook URL")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        if url and (self._deliverer is None or self._deliverer.done()):
            self._deliverer = asyncio.create_task(self._deliver())
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        self._chat_id(params)
        return True

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _deliver(self) -> None:
        """Webhook mode: POST pending updates one at a time, in order; retry until accepted."""
        async with aiohttp.ClientSession() as http:
            while not self._closing.is_set() and self.webhook.get("url"):
                if not self._pending:
                    self._new_update.clear()
                    await self._new_update.wait()
                    continue
                update = self._pending[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with http.post(self.webhook["url"], json=update, headers=headers) as resp:
                        accepted = resp.status < 300
                except aiohttp.ClientError:
                    accepted = False
                if accepted and self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                elif not accepted:
                    await asyncio.sleep(0.05)


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
