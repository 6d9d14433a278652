"""The webhook endpoint under hostile requests, over real HTTP on loopback: the bot in webhook mode
against the Bot API stand-in, and raw sockets playing a client that is not Telegram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.app import build_service
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from db.engine import make_engine
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn, free_port

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SECRET = "s3cret_Token-1"
PATH = "/telegram/hook"
CHAT = 3001
LIMIT = 1024 * 1024  # documented: bodies over 1 MB are refused


@pytest.fixture
async def webhook(sqlite_url: str, kb: KnowledgeBase) -> AsyncIterator[tuple[BotApiStandIn, int]]:
    port = free_port()
    engine = make_engine(sqlite_url)
    async with BotApiStandIn() as api:
        settings = Settings(
            database_url=sqlite_url,
            telegram_bot_token=SecretStr(api.token),
            telegram_api_base_url=api.base_url,
            telegram_mode="webhook",
            telegram_webhook_url=f"http://127.0.0.1:{port}{PATH}",
            telegram_webhook_port=port,
            telegram_webhook_secret=SecretStr(SECRET),
        )
        service = build_service(settings, engine, kb)
        runtime = TelegramRuntime(settings, service, limiter=TelegramRateLimiter(1000.0, 1000.0, 100.0))
        await runtime.start()
        try:
            yield api, port
        finally:
            await runtime.stop()
            engine.dispose()


def update_json(update_id: int, text: str) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1700000000,
                "chat": {"id": CHAT, "type": "private", "first_name": "C"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "C"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        }
    ).encode()


class RawRequest:
    """A client that sends the request head (and optionally part of the body) and then listens."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def send(self, headers: dict[str, str], body: bytes) -> tuple[int, bool]:
        """Returns the status and whether the server closed the connection afterwards."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 5)
            try:
                await asyncio.wait_for(reader.read(), 5)  # returns once the server hangs up
            except TimeoutError:
                return int(status_line.split()[1]), False
            except ConnectionResetError:  # closed with our unread bytes still in its buffer
                pass
            return int(status_line.split()[1]), True
        finally:
            writer.close()


async def test_a_request_without_the_secret_is_refused_before_its_body_is_read(
    webhook: tuple[BotApiStandIn, int],
) -> None:
    api, port = webhook
    claimed = 50 * 1024 * 1024  # announced, never sent: an answer proves the body was not awaited
    for secret in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}, {"X-Telegram-Bot-Api-Secret-Token": ""}):
        headers = {"Content-Type": "application/json", "Content-Length": str(claimed), **secret}
        status, closed = await RawRequest(port).send(headers, b"{" + b" " * 65536)
        assert (status, closed) == (403, True)
    # a correct-length wrong-secret update is not processed either
    body = update_json(1, "/start")
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "X-Telegram-Bot-Api-Secret-Token": SECRET[:-1] + "2",
    }
    assert (await RawRequest(port).send(headers, body))[0] == 403
    await asyncio.sleep(0.2)
    assert api.messages(CHAT) == []


async def test_an_oversized_body_with_the_right_secret_is_refused_with_413(
    webhook: tuple[BotApiStandIn, int],
) -> None:
    _, port = webhook
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(LIMIT + 1),
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
    }
    status, closed = await RawRequest(port).send(headers, b"{")
    assert (status, closed) == (413, True)


async def test_a_valid_update_is_processed_and_garbage_is_refused(webhook: tuple[BotApiStandIn, int]) -> None:
    api, port = webhook
    garbage = b"not json"
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(garbage)),
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
        "Connection": "close",
    }
    assert (await RawRequest(port).send(headers, garbage))[0] == 400
    body = update_json(2, "/hilfe")
    headers["Content-Length"] = str(len(body))
    assert (await RawRequest(port).send(headers, body))[0] == 200
    await api.wait_for(lambda: any("So funktioniert" in m.text for m in api.messages(CHAT)))
