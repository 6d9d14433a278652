"""The Telegram transport end to end: the real PTB Application against the local Bot API stand-in.

Every test runs real HTTP over 127.0.0.1: the bot long-polls (or receives webhooks), the
stand-in plays the users and records what the bot sent.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.logs import configure_logging
from bot.outbound import DeliveryStatus
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import MENU_COMMANDS, TelegramRuntime, TelegramStartError
from db import users
from db.engine import make_engine, session_scope
from handlers.catalogue import t
from handlers.turn import Attachment, Reply
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn, SentMessage, free_port

# PTB itself warns about its own RetryAfter.retry_after type change when it builds the exception
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

ALICE, BOB = 1001, 1002
GROUP = -100555


def make_settings(api: BotApiStandIn, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_bot_token": api.token,
        "telegram_api_base_url": api.base_url,
        "telegram_per_chat_rate": 50.0,  # keep tests quick; limits themselves are unit-tested
        "flood_max_messages": 1000,
        **overrides,
    }
    return Settings(**values)


def fast_limiter() -> TelegramRateLimiter:
    return TelegramRateLimiter(1000.0, 1000.0, 100.0, max_retries=3, backoff=0.05)


@asynccontextmanager
async def running_bot(
    api: BotApiStandIn, engine: sa.Engine, kb: KnowledgeBase, **overrides: Any
) -> AsyncIterator[TelegramRuntime]:
    """A freshly built service and Application, as after a process start."""
    settings = make_settings(api, str(engine.url.render_as_string(hide_password=False)), **overrides)
    service = ConversationService(engine, kb, feature_settings(settings), build_features())
    runtime = TelegramRuntime(settings, service, limiter=fast_limiter(), poll_timeout=5)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def bot(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> AsyncIterator[TelegramRuntime]:
    async with running_bot(api, sqlite_engine, kb) as runtime:
        yield runtime


# --- helpers: what a user sees --------------------------------------------------------------
def with_button(api: BotApiStandIn, chat: int, option_prefix: str) -> SentMessage | None:
    """The latest message offering a button whose option id starts with `option_prefix`."""
    for message in reversed(api.messages(chat)):
        for button in message.buttons:
            if button.callback_data and button.callback_data.split("|")[-1].startswith(option_prefix):
                return message
    return None


async def wait_button(
    api: BotApiStandIn, chat: int, option_prefix: str, timeout: float = 10.0
) -> SentMessage:
    return await api.wait_for(lambda: with_button(api, chat, option_prefix), timeout)


def data_of(message: SentMessage, option_id: str) -> str:
    for button in message.buttons:
        if button.callback_data and button.callback_data.split("|")[-1] == option_id:
            return button.callback_data
    raise AssertionError(f"no button {option_id}: {[b.callback_data for b in message.buttons]}")


def with_text(api: BotApiStandIn, chat: int, part: str) -> SentMessage | None:
    return next((m for m in api.messages(chat) if part in m.text), None)


async def wait_text(api: BotApiStandIn, chat: int, part: str) -> SentMessage:
    return await api.wait_for(lambda: with_text(api, chat, part))


def press(api: BotApiStandIn, chat: int, message: SentMessage, option_id: str) -> str:
    update = api.press(chat, message.message_id, data_of(message, option_id))
    return str(update["callback_query"]["id"])


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """For effects the stand-in cannot see (database rows): poll until true."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def is_active(engine: sa.Engine, chat: int) -> bool | None:
    with session_scope(engine) as session:
        user = users.find_user(session, "telegram", str(chat))
        return None if user is None else user.active


# --- the advisory dialog ----------------------------------------------------------------------
async def test_full_dialog_by_buttons_edits_the_question_in_place(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    api.user_text(ALICE, "/start")
    question = await wait_button(api, ALICE, "sit:")
    # one message: the greeting above the first question
    assert api.messages(ALICE) == [question] and question.text.startswith("Guten Tag")

    presses = [press(api, ALICE, question, "sit:beschaeftigt")]
    question = await api.wait_for(lambda: with_button(api, ALICE, "dist:"))
    assert question.text.splitlines()[0] == "✓ " + t("de", "situation.beschaeftigt")  # stays visible
    presses.append(press(api, ALICE, question, "dist:lueneburg"))
    question = await wait_button(api, ALICE, "sec:")
    presses.append(press(api, ALICE, question, "sec:gesundheit"))
    question = await wait_button(api, ALICE, "goal:")
    assert question.text.splitlines()[0] == "✓ " + t("de", "sector.gesundheit")
    presses.append(press(api, ALICE, question, "goal:weiterbildung"))

    # the results page replaces the last question: still one message, edited four times
    page = await wait_button(api, ALICE, "nav:start")
    assert api.messages(ALICE) == [page] and page.edits == 4
    assert page.text.splitlines()[0] == "✓ " + t("de", "goal.weiterbildung")
    numbered = [b for b in page.buttons if b.callback_data and "|offer:" in b.callback_data]
    assert [b.text for b in numbered] == [f"Nr. {n}" for n in range(1, 6)]
    assert page.keyboard[0] == numbered  # in one row
    for n in range(1, 6):
        entry = next(p for p in page.text.split("\n\n") if p.startswith(f"{n}. "))
        assert "Warum:" in entry and "Ansprechpartner:" in entry
    assert len(page.text) <= 4096
    page_text = page.text

    presses.append(press(api, ALICE, page, option_ids(page)[0]))
    details = await api.wait_for(
        lambda: next((m for m in api.messages(ALICE) if m.message_id > page.message_id), None)
    )
    assert "So geht es weiter" in details.text
    assert any(b.url and b.url.startswith("http") for b in details.buttons)  # the source opens in the browser
    presses.append(
        press(api, ALICE, details, next(o for o in option_ids(details) if o.startswith("contact:")))
    )
    contact = await api.wait_for(
        lambda: next((m for m in api.messages(ALICE) if m.message_id > details.message_id), None)
    )
    assert contact.text.startswith("Kontakt:")
    assert page.text == page_text and page.edits == 4  # the page itself stays

    presses.append(press(api, ALICE, page, "nav:more"))  # paging replaces the page in place
    await api.wait_for(lambda: "Angebote 6 bis" in page.text or None)
    assert page.edits == 5 and len(api.messages(ALICE)) == 3
    assert page.keyboard[0][0].text == "Nr. 6"

    await api.wait_for(lambda: all(p in api.answers for p in presses))


async def test_start_and_one_tap_cost_three_bot_api_requests_like_a_bare_bot(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    """Counted: every request the bot makes because of the two updates (/start, one press on the
    question), i.e. every call after /start arrived except getUpdates (the long poll runs whether
    or not anybody writes). A bare bot needs: sendMessage; answerCallbackQuery, editMessageText."""
    before = len(api.calls)
    api.user_text(ALICE, "/start")
    question = await wait_button(api, ALICE, "sit:")
    query = press(api, ALICE, question, "sit:schule")
    await wait_button(api, ALICE, "dist:")
    await api.wait_for(lambda: query in api.answers or None)
    await asyncio.sleep(0.3)  # room for a request that should not come
    calls = [c.method for c in api.calls[before:] if c.method.lower() != "getupdates"]
    assert calls == ["sendMessage", "answerCallbackQuery", "editMessageText"]


def with_button_in(message: SentMessage, option_prefix: str) -> bool:
    return any(o.startswith(option_prefix) for o in option_ids(message))


def option_ids(message: SentMessage) -> list[str]:
    return [b.callback_data.split("|")[-1] for b in message.buttons if b.callback_data]


async def test_the_same_dialog_by_free_text(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    api.user_text(ALICE, "/start")
    await wait_button(api, ALICE, "sit:")
    api.user_text(ALICE, "Ich bin angestellt und will mich weiterbilden")
    await wait_button(api, ALICE, "dist:")
    api.user_text(ALICE, "Ich wohne in Uelzen")
    await wait_button(api, ALICE, "sec:")
    api.user_text(ALICE, "Ich arbeite in der Pflege")
    await wait_button(api, ALICE, "nav:start")
    assert any(with_button_in(m, "offer:") for m in api.messages(ALICE))
    assert with_text(api, ALICE, "Landkreis Uelzen")
    assert not api.calls_to("editMessageText")  # typed answers never rewrite earlier messages


async def test_a_restarted_bot_continues_the_dialog_from_the_database(
    api: BotApiStandIn, database_url: str, kb: KnowledgeBase
) -> None:
    engine = make_engine(database_url)
    try:
        async with running_bot(api, engine, kb):
            api.user_text(ALICE, "/start")
            question = await wait_button(api, ALICE, "sit:")
            press(api, ALICE, question, "sit:arbeitsuchend")
            question = await wait_button(api, ALICE, "dist:")
            press(api, ALICE, question, "dist:harburg")
            question = await wait_button(api, ALICE, "sec:")

        def welcomes() -> int:  # sent ones: the greeting is edited away with the first answer
            return len([c for c in api.calls_to("sendMessage") if "Bildungslotse" in c.params["text"]])

        assert welcomes() == 1

        async with running_bot(api, engine, kb):  # a new process: nothing survives but the database
            press(api, ALICE, question, "sec:logistik")
            question = await wait_button(api, ALICE, "goal:")
            press(api, ALICE, question, "goal:umschulung")
            await wait_button(api, ALICE, "nav:start")
        assert welcomes() == 1
        assert with_text(api, ALICE, "Angebote 1 bis")
    finally:
        engine.dispose()


async def test_bildungslotse_run_continues_the_dialog_after_being_killed(
    api: BotApiStandIn, sqlite_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update(
        DATABASE_URL=sqlite_url,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        LOG_LEVEL="INFO",
        HTTP_PORT=str(free_port()),  # /healthz and /metrics: not the default 8080 of a shared machine
    )

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    first = await start()
    try:
        api.user_text(ALICE, "/start")
        question = await wait_button(api, ALICE, "sit:", timeout=60)
        press(api, ALICE, question, "sit:schule")
        question = await wait_button(api, ALICE, "dist:")
        await api.wait_for(lambda: api.pending_updates == 0 or None)  # the press is confirmed to Telegram
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        _, first_err = await first.communicate()

    second = await start()
    try:
        press(api, ALICE, question, "dist:uelzen")
        await wait_button(api, ALICE, "sec:", timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        _, second_err = await asyncio.wait_for(second.communicate(), 30)
    assert second.returncode == 0, second_err.decode()
    assert len([c for c in api.calls_to("sendMessage") if "Guten Tag" in c.params["text"]]) == 1
    logs = (first_err + second_err).decode()
    assert "Telegram läuft" in logs and api.token not in logs


async def test_forged_and_outdated_buttons_get_a_friendly_answer(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    api.user_text(ALICE, "/start")
    question = await wait_button(api, ALICE, "sit:")
    shown = [(m.text, m.edits) for m in api.messages(ALICE)]
    forged = ["garbage", "v2|q|sit:betrieb", "v1|q|sit:lü", "v1|q|" + "x" * 70, "v1|z|sit:schule", ""]
    ids = [str(api.press(ALICE, question.message_id, data)["callback_query"]["id"]) for data in forged]
    await api.wait_for(lambda: all(i in api.answers for i in ids))
    for query_id in ids:
        assert api.answers[query_id]["text"] == t("de", "telegram.stale_button")
    assert [(m.text, m.edits) for m in api.messages(ALICE)] == shown  # nothing else happened

    # a well-formed button of an older dialog version: the dialog itself says it is outdated
    api.press(ALICE, question.message_id, "v1|q|sit:astronaut")
    await wait_text(api, ALICE, "nicht mehr aktuell")
    # and the real buttons still work
    question = await wait_button(api, ALICE, "sit:")
    press(api, ALICE, question, "sit:schule")
    await wait_button(api, ALICE, "dist:")


async def test_a_press_on_a_message_telegram_no_longer_has_is_answered_with_new_messages(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    api.user_text(ALICE, "/start")
    await wait_button(api, ALICE, "sit:")
    update = api.press(ALICE, 9999, "v1|q|sit:betrieb")  # inaccessible message (date 0)
    await wait_button(api, ALICE, "dist:")
    assert update["callback_query"]["id"] in api.answers


async def test_one_users_updates_are_answered_in_order(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    api.inject("sendMessage", delay=0.3, chat_id=ALICE)  # the first answer is slow to go out
    api.user_text(ALICE, "/hilfe")
    api.user_text(ALICE, "/profil")
    api.user_text(ALICE, "/neu")
    await wait_button(api, ALICE, "sit:")
    texts = [m.text for m in api.messages(ALICE)]
    parts = ("So funktioniert", "Das weiß ich über Sie", "Guten Tag")
    first = [next(i for i, s in enumerate(texts) if part in s) for part in parts]
    assert first == sorted(first)


async def test_a_slow_chat_does_not_hold_up_other_users(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    api.inject("sendMessage", delay=1.0, chat_id=ALICE)
    api.user_text(ALICE, "/hilfe")
    api.user_text(BOB, "/hilfe")
    await wait_text(api, ALICE, "So funktioniert")
    sends = [c.params["chat_id"] for c in api.calls_to("sendMessage")]
    assert sends.index(BOB) < sends.index(ALICE)  # Bob was served while Alice's send hung


async def test_stickers_photos_voice_and_documents_get_a_short_hint(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    api.user_text(ALICE, "/start")
    await wait_button(api, ALICE, "sit:")
    hint = t("de", "unsupported")
    for kind in ("sticker", "photo", "voice", "document"):
        api.user_media(ALICE, kind)
    # each hint comes with the question again, in one message
    hints = lambda: [m for m in api.messages(ALICE) if m.text.startswith(hint) and with_button_in(m, "sit:")]  # noqa: E731
    await api.wait_for(lambda: len(hints()) == 4 or None)
    questions = [m for m in api.messages(ALICE) if with_button_in(m, "sit:")]
    assert len(questions) == 5 and len(api.messages(ALICE)) == 5


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [(53.2509, 10.4141, "Landkreis Lüneburg"), (52.5200, 13.4050, "außerhalb")],
)
async def test_a_shared_location_answers_the_district_question(
    api: BotApiStandIn, bot: TelegramRuntime, lat: float, lon: float, expected: str
) -> None:
    api.user_text(ALICE, "/start")
    question = await wait_button(api, ALICE, "sit:")
    press(api, ALICE, question, "sit:beschaeftigt")
    await wait_button(api, ALICE, "dist:")
    api.user_location(ALICE, lat, lon)
    answer = await wait_text(api, ALICE, "Ihr Standort liegt")
    assert expected in answer.text
    await wait_button(api, ALICE, "sec:")


async def test_in_groups_the_bot_only_answers_when_addressed(
    api: BotApiStandIn, bot: TelegramRuntime, sqlite_engine: sa.Engine
) -> None:
    api.user_text(GROUP, "Hallo zusammen, kennt jemand einen Meisterkurs?", from_id=7, chat_type="supergroup")
    api.user_text(GROUP, "/start@other_bot", from_id=7, chat_type="supergroup")
    api.user_media(GROUP, "sticker", from_id=7, chat_type="supergroup")
    api.user_text(GROUP, "/start@bildungslotse_test_bot", from_id=7, chat_type="supergroup")
    question = await wait_button(api, GROUP, "sit:")
    assert "Bildungslotse" in api.messages(GROUP)[0].text  # nothing before the command was answered

    api.user_text(GROUP, "@bildungslotse_test_bot ich bin arbeitsuchend", from_id=8, chat_type="supergroup")
    question = await wait_button(api, GROUP, "dist:")
    api.user_text(GROUP, "Uelzen", from_id=9, chat_type="supergroup", reply_to=question.message_id)
    await wait_button(api, GROUP, "sec:")
    # the group shares one conversation, whoever writes
    assert is_active(sqlite_engine, GROUP) is True
    assert is_active(sqlite_engine, 8) is None


async def test_the_command_menu_is_set_in_german(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    assert [c["command"] for c in api.commands] == list(MENU_COMMANDS)
    assert {c["command"]: c["description"] for c in api.commands}["angebote"] == t(
        "de", "telegram.command.angebote"
    )
    assert api.menus["en"][0]["description"] == t("en", "telegram.command.start")


# --- delivery: limits, retries, blocked users -------------------------------------------------
async def test_flood_control_delays_only_the_affected_request(
    api: BotApiStandIn, bot: TelegramRuntime
) -> None:
    api.inject("sendMessage", status=429, retry_after=1, chat_id=ALICE)
    api.user_text(ALICE, "/hilfe")
    await api.wait_for(lambda: any(c.status == 429 for c in api.calls))
    api.user_text(BOB, "/hilfe")
    await wait_text(api, ALICE, "So funktioniert")
    await wait_text(api, BOB, "So funktioniert")
    sends = [(c.params["chat_id"], c.status) for c in api.calls_to("sendMessage")]
    refused = sends.index((ALICE, 429))
    assert sends.index((BOB, 200)) < sends.index((ALICE, 200)), "Bob did not wait for Alice's 429"
    assert refused < sends.index((ALICE, 200))
    assert len([m for m in api.messages(ALICE) if "So funktioniert" in m.text]) == 1  # resent once


async def test_bad_gateway_and_network_faults_are_retried(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    api.inject("sendMessage", status=502, times=2, chat_id=ALICE)
    api.user_text(ALICE, "/hilfe")
    await wait_text(api, ALICE, "So funktioniert")
    statuses = [c.status for c in api.calls_to("sendMessage") if c.params["chat_id"] == ALICE]
    assert statuses[:3] == [502, 502, 200]
    assert len([m for m in api.messages(ALICE) if "So funktioniert" in m.text]) == 1


async def test_the_sender_reports_what_a_dispatcher_needs(api: BotApiStandIn, bot: TelegramRuntime) -> None:
    sender = bot.sender
    assert sender.transport == "telegram"

    ok = await sender.send(str(BOB), [Reply("Erinnerung: morgen Infoabend"), Reply("x" * 9000)])
    assert ok.status is DeliveryStatus.SENT
    texts = [m.text for m in api.messages(BOB)]
    assert len(texts) == 3 and all(len(text) <= 4096 for text in texts)
    assert texts[0].startswith("Erinnerung") and "".join(texts).count("x") == 9000

    ics = Attachment("termin.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    assert (await sender.send(str(BOB), [Reply("Ihr Termin", attachment=ics)])).status is DeliveryStatus.SENT
    document = api.last_message(BOB)
    assert document is not None and document.document == ("termin.ics", ics.data)

    api.inject("sendMessage", status=429, retry_after=120, chat_id=BOB)  # too long to wait in line
    later = await sender.send(str(BOB), [Reply("Erinnerung")])
    assert later.status is DeliveryStatus.RETRY and later.retry_after == 120

    api.inject("sendMessage", status=502, times=10, chat_id=BOB)
    down = await sender.send(str(BOB), [Reply("Erinnerung")])
    assert down.status is DeliveryStatus.RETRY
    assert len([c for c in api.calls_to("sendMessage") if c.status == 502]) == 4  # 1 try + 3 retries
    api.clear_faults()

    api.inject("sendMessage", status=400, description="Bad Request: chat not found", chat_id=BOB)
    failed = await sender.send(str(BOB), [Reply("Erinnerung")])
    assert failed.status is DeliveryStatus.FAILED and "chat not found" in failed.detail.lower()
    assert "Erinnerung" not in failed.detail


async def test_a_user_who_blocked_the_bot_is_marked_inactive_and_left_alone(
    api: BotApiStandIn, bot: TelegramRuntime, sqlite_engine: sa.Engine
) -> None:
    api.user_text(ALICE, "/start")
    await wait_button(api, ALICE, "sit:")
    api.block(ALICE)
    api.user_text(ALICE, "/hilfe")  # the answer bounces with 403
    await eventually(lambda: is_active(sqlite_engine, ALICE) is False)

    calls = len(api.calls)
    result = await bot.sender.send(str(ALICE), [Reply("Erinnerung an Ihren Termin")])
    assert result.status is DeliveryStatus.BLOCKED
    assert len(api.calls) == calls  # not even tried

    api.unblock(ALICE)
    api.user_text(ALICE, "/hilfe")  # writing again means they are back
    await api.wait_for(lambda: len([m for m in api.messages(ALICE) if "So funktioniert" in m.text]) == 1)
    assert is_active(sqlite_engine, ALICE) is True
    assert (await bot.sender.send(str(ALICE), [Reply("Erinnerung")])).status is DeliveryStatus.SENT


async def test_a_reminder_to_a_blocked_chat_marks_the_user_inactive(
    api: BotApiStandIn, bot: TelegramRuntime, sqlite_engine: sa.Engine
) -> None:
    api.user_text(BOB, "/start")
    await wait_button(api, BOB, "sit:")
    api.block(BOB)
    result = await bot.sender.send(str(BOB), [Reply("Erinnerung")])
    assert result.status is DeliveryStatus.BLOCKED
    assert is_active(sqlite_engine, BOB) is False


# --- webhook mode -----------------------------------------------------------------------------
async def test_webhook_mode_checks_the_secret_token(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with running_bot(
        api,
        sqlite_engine,
        kb,
        telegram_mode="webhook",
        telegram_webhook_url=url,
        telegram_webhook_port=port,
        telegram_webhook_secret="s3cret_Token-1",
    ):
        assert api.webhook == {"url": url, "secret_token": "s3cret_Token-1"}
        api.user_text(ALICE, "/start")  # delivered by the stand-in through the webhook
        await wait_button(api, ALICE, "sit:")

        update: dict[str, Any] = {
            "update_id": 90001,
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": BOB, "type": "private", "first_name": "Bob"},
                "from": {"id": BOB, "is_bot": False, "first_name": "Bob"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                # refused on the headers: a client must not have to send the body to hear it
                async with http.post(url, json=update, headers=headers, expect100=True) as resp:
                    assert resp.status == 403
            help_update = {**update, "update_id": 90002}
            help_update["message"] = {
                **update["message"],
                "message_id": 2,
                "text": "/hilfe",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
            good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_Token-1"}
            async with http.post(url, json=help_update, headers=good) as resp:
                assert resp.status == 200
        await wait_text(api, BOB, "So funktioniert")
        assert not with_text(api, BOB, "Guten Tag")  # the rejected /start was never processed


async def test_webhook_mode_without_a_configured_secret_still_uses_one(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    port = free_port()
    async with running_bot(
        api,
        sqlite_engine,
        kb,
        telegram_mode="webhook",
        telegram_webhook_url=f"http://127.0.0.1:{port}/hook",
        telegram_webhook_port=port,
    ):
        assert len(api.webhook["secret_token"]) >= 32


# --- secrets ----------------------------------------------------------------------------------
async def test_the_token_never_reaches_the_log(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    url = str(sqlite_engine.url.render_as_string(hide_password=False))
    settings = make_settings(api, url, log_level="DEBUG")
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {
        n: logging.getLogger(n).level
        for n in ("bot.telegram.aiohttp_request", "telegram", "apscheduler", "nio")
    }
    buffer = io.StringIO()
    try:
        configure_logging(settings)
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        async with running_bot(api, sqlite_engine, kb, log_level="DEBUG"):
            logging.getLogger("bot.telegram.aiohttp_request").setLevel(logging.DEBUG)  # debugging HTTP
            api.inject("getUpdates", status=502)
            api.inject("sendMessage", status=429, retry_after=1, chat_id=ALICE)
            api.user_text(ALICE, "/hilfe")
            await wait_text(api, ALICE, "So funktioniert")
            api.block(BOB)
            api.user_text(BOB, "/start")
            await api.wait_for(lambda: any(c.status == 403 for c in api.calls))
        wrong = make_settings(api, url, telegram_bot_token="987654321:AAwrong-token-that-telegram-rejects")
        service = ConversationService(sqlite_engine, kb, feature_settings(wrong))
        with pytest.raises(TelegramStartError) as failure:
            await TelegramRuntime(wrong, service).start()
        assert "987654321:AAwrong" not in str(failure.value)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
    output = buffer.getvalue()
    assert "Bad Gateway" in output and "flood control" in output  # the error paths were logged
    assert "/bot***/getUpdates" in output  # request URLs were logged, redacted
    assert api.token not in output and api.token.split(":")[1] not in output
    assert "987654321:AAwrong" not in output
    assert "So funktioniert" not in output  # nor message contents


# --- people in groups: admin rights and personal data (issue 15, items 3 and 4) ---------------
async def test_in_a_group_admin_actions_and_personal_data_stay_with_the_person(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    carol = 1003  # a second admin
    group = "supergroup"
    async with running_bot(api, sqlite_engine, kb, admin_ids=f"telegram:{ALICE},telegram:{carol}"):
        # a member of an admin's group: no admin
        api.user_text(GROUP, "/statistik", from_id=BOB, chat_type=group)
        await wait_text(api, GROUP, "Diesen Befehl kenne ich nicht")
        api.user_text(GROUP, "/rundschreiben", from_id=ALICE, chat_type=group)
        question = await wait_button(api, GROUP, "adm:bcto:")
        shown = [(m.text, m.edits) for m in api.messages(GROUP)]
        ids = [  # neither may answer Alice's question
            str(
                api.press(GROUP, question.message_id, data_of(question, "adm:abort"), from_id=other)[
                    "callback_query"
                ]["id"]
            )
            for other in (BOB, carol)
        ]
        await api.wait_for(lambda: all(i in api.answers for i in ids))
        api.user_text(GROUP, "/hilfe", from_id=BOB, chat_type=group)  # a later turn: the presses are done
        await wait_text(api, GROUP, "So funktioniert")
        assert [(m.text, m.edits) for m in api.messages(GROUP)][: len(shown)] == shown
        api.press(GROUP, question.message_id, data_of(question, "adm:abort"), from_id=ALICE)
        await wait_text(api, GROUP, t("de", "admin.aborted"))

        api.user_text(GROUP, "/meinedaten", from_id=BOB, chat_type=group)
        refusal = await wait_text(api, GROUP, t("de", "privacy.private_only_link"))
        assert [b.url for b in refusal.buttons] == [f"https://t.me/{api.username}"]
        assert api.calls_to("sendDocument") == []
