"""The webhook endpoint under hostile requests, over real HTTP on loopback: the bot in webhook mode
against the Bot API stand-in, and raw sockets playing a client that is not Telegram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
from pydantic import SecretStr

from bot.app import build_service
from bot.settings import Settings
from bot.telegram import runtime as telegram_runtime
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
def max_pending() -> int:
    return 256  # the default; the back-pressure tests make it small


@pytest.fixture
async def webhook(
    sqlite_url: str, kb: KnowledgeBase, max_pending: int
) -> AsyncIterator[tuple[BotApiStandIn, int]]:
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
            telegram_max_pending_updates=max_pending,
        )
        service = build_service(settings, engine, kb)
        runtime = TelegramRuntime(settings, service, limiter=TelegramRateLimiter(1000.0, 1000.0, 100.0))
        await runtime.start()
        try:
            yield api, port
        finally:
            await runtime.stop()
            engine.dispose()


def update_json(update_id: int, text: str, chat: int = CHAT) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1700000000,
                "chat": {"id": chat, "type": "private", "first_name": "C"},
                "from": {"id": chat, "is_bot": False, "first_name": "C"},
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


async def _post(port: int, update_id: int, chat: int) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"http://127.0.0.1:{port}{PATH}",
            content=update_json(update_id, "/hilfe", chat),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    return response.status_code


def _answers(api: BotApiStandIn, chat: int) -> int:
    return sum("So funktioniert" in m.text for m in api.messages(chat))


@pytest.mark.parametrize("max_pending", [2])
async def test_a_saturated_bot_holds_new_updates_at_the_door_and_loses_none(
    webhook: tuple[BotApiStandIn, int],
) -> None:
    """A burst waits at Telegram, not in the bot's memory: with 2 updates in progress (their answers
    slow to go out), the next ones are held unanswered, then accepted and answered once each."""
    api, port = webhook
    chats = [4001, 4002, 4003, 4004]
    for chat in chats[:2]:
        api.inject("sendMessage", delay=1.5, chat_id=chat)
    first = [asyncio.create_task(_post(port, i, chat)) for i, chat in enumerate(chats[:2], 10)]
    assert await asyncio.gather(*first) == [200, 200]
    held = [asyncio.create_task(_post(port, i, chat)) for i, chat in enumerate(chats[2:], 20)]
    await asyncio.sleep(0.7)
    assert not any(task.done() for task in held)  # Telegram is still waiting for these answers
    assert await asyncio.gather(*held) == [200, 200]
    for chat in chats:
        await api.wait_for(partial(_answers, api, chat))
    await asyncio.sleep(0.3)
    assert [_answers(api, chat) for chat in chats] == [1, 1, 1, 1]


@pytest.mark.parametrize("max_pending", [1])
async def test_an_update_held_too_long_is_refused_unqueued_and_taken_on_the_next_delivery(
    webhook: tuple[BotApiStandIn, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the hold the bot answers 503 without queuing the update, so Telegram's next delivery is
    the only one: answered once, not twice."""
    api, port = webhook
    monkeypatch.setattr(telegram_runtime, "HOLD_SECONDS", 0.3)
    api.inject("sendMessage", delay=2.0, chat_id=4101)
    assert await _post(port, 30, 4101) == 200
    await asyncio.sleep(0.2)  # the first turn is in progress, its answer on its way
    assert await _post(port, 31, 4102) == 503
    await api.wait_for(lambda: _answers(api, 4101), timeout=10)
    assert _answers(api, 4102) == 0
    assert await _post(port, 31, 4102) == 200  # Telegram's next delivery of the same update
    await api.wait_for(lambda: _answers(api, 4102), timeout=10)
    await asyncio.sleep(0.3)
    assert _answers(api, 4102) == 1
