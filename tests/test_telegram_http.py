"""The Bot API client on aiohttp (bot/telegram/aiohttp_request.py) keeps PTB's contract: what the bot
sends arrives as Telegram expects it (form fields, uploads, non-ASCII text), and transport faults
become PTB's TimedOut / NetworkError, which the limiter retries (tests/test_telegram_e2e.py)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.aiohttp_request import AiohttpRequest
from tests.telegram_standin import BotApiStandIn, free_port

CHAT = 4711


def _bot(base_url: str, token: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(
        token,
        base_url=f"{base_url.rstrip('/')}/bot",
        request=request or AiohttpRequest(),
        get_updates_request=AiohttpRequest(1),
    )


async def test_a_message_with_a_keyboard_and_umlauts_arrives_as_sent(api: BotApiStandIn) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lüneburg", callback_data="v1|q|dist:lg")]])
    async with _bot(api.base_url, api.token) as bot:
        sent = await bot.send_message(CHAT, "Grüß Gott – welcher Landkreis? 🧭", reply_markup=keyboard)
    (message,) = api.messages(CHAT)
    assert message.message_id == sent.message_id
    assert message.text == "Grüß Gott – welcher Landkreis? 🧭"
    assert message.button("Lüneburg").callback_data == "v1|q|dist:lg"


async def test_a_document_upload_arrives_with_its_name_and_content(api: BotApiStandIn) -> None:
    content = '{"name": "Jürgen"}\n'.encode() * 2000  # larger than one socket buffer
    async with _bot(api.base_url, api.token) as bot:
        await bot.send_document(CHAT, document=content, filename="meine-daten.json", caption="Ihre Daten")
    (message,) = api.messages(CHAT)
    assert message.document == ("meine-daten.json", content)
    assert message.text == "Ihre Daten"


async def test_telegram_refusing_a_request_is_a_bad_request_with_its_description(api: BotApiStandIn) -> None:
    async with _bot(api.base_url, api.token) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(CHAT, "")


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(api: BotApiStandIn) -> None:
    api.inject("sendMessage", delay=2.0)
    async with _bot(api.base_url, api.token, AiohttpRequest(read_timeout=0.3)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "Hallo")
        # the client is still usable afterwards: the next request goes through
        await bot.send_message(CHAT, "Noch einmal")
    assert api.messages(CHAT)[-1].text == "Noch einmal"


async def test_nobody_listening_is_a_network_error_not_a_crash() -> None:
    bot = _bot(f"http://127.0.0.1:{free_port()}", "123:abc")
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()  # getMe
    assert not isinstance(raised.value, TimedOut)
    await bot.shutdown()


async def test_a_request_before_initialize_or_after_shutdown_says_so(api: BotApiStandIn) -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{api.base_url}/bot{api.token}/getMe", "POST")
    await request.initialize()
    status, _ = await request.do_request(f"{api.base_url}/bot{api.token}/getMe", "POST")
    assert status == 200
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{api.base_url}/bot{api.token}/getMe", "POST")


async def test_an_office_proxy_from_the_environment_is_used(
    api: BotApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A district's network may reach Telegram only through its proxy (HTTP(S)_PROXY), as PTB's default
    client allows: the request goes through the proxy and still arrives."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method, str(request.url), data=await request.read(), headers=request.headers
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type="application/json"
            )

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(proxy, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with _bot(api.base_url, api.token) as bot:
            await bot.send_message(CHAT, "Über den Proxy")
    finally:
        await runner.cleanup()
    assert api.messages(CHAT)[-1].text == "Über den Proxy"
    assert any(url.endswith("/sendMessage") for url in seen)
