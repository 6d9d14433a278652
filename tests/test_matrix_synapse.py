"""The Matrix bot against a real Synapse: invitation, the whole advisory dialog, restart, reminder, deletion.

The human side is a matrix-nio client as an Element user would drive it. Every wait is bounded
(`WAIT` seconds per reply); nothing is mocked between the bot and the homeserver.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from nio import MegolmEvent, RoomMessageFile, RoomMessageText, RoomPutAliasResponse
from pydantic import SecretStr
from sqlmodel import Session, select

from bot.app import build_service
from bot.clock import Clock, system_clock
from bot.conversation import ConversationService
from bot.matrix import state
from bot.matrix.runtime import MatrixRuntime
from bot.matrix.sender import MatrixSender
from bot.matrix.sharing import SHARED_ROOM
from bot.outbound import DeliveryStatus
from bot.ratelimit import RateLimiter
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.planner import ReminderRules
from bot.runner import serve
from bot.settings import Settings
from db.audit import AuditEntry
from db.engine import make_engine, session_scope
from db.event_models import Delivery, Subscription
from db.events import upsert_events
from db.matrix_models import MatrixRoom
from db.models import Profile, User
from db.types import utcnow
from handlers.catalogue import t
from handlers.turn import Attachment, Option, Reply
from knowledge.events import EventIn
from knowledge.vocabulary import GOALS_BY_SITUATION, District, Sector, Situation
from tests.matrix_homeserver import WAIT, Account, Person, Synapse, synapse  # noqa: F401 (fixture)
from tests.telegram_standin import free_port

pytestmark = pytest.mark.matrix


def settings_for(server: Synapse, bot: Account, database_url: str, store: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        matrix_homeserver=server.url,
        matrix_user_id=bot.user_id,
        matrix_password=bot.password,
        matrix_store_path=store,
        **extra,
    )


class Bot:
    """Starts and restarts the bot like an operator would (same database, same store directory)."""

    def __init__(self, settings: Settings, engine: sa.Engine, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock  # what the runtime stamps turns with (the course tests pin it)
        self.service: ConversationService = build_service(settings, engine)
        self.runtime: MatrixRuntime | None = None

    async def start(self, fresh: bool = False) -> MatrixRuntime:
        if fresh:
            self.service = build_service(self.settings, self.engine)  # a new process knows nothing
        self.runtime = MatrixRuntime(self.settings, self.service, clock=self.clock)
        await self.runtime.start()
        return self.runtime

    async def restart(self) -> MatrixRuntime:
        await self.stop()
        return await self.start(fresh=True)

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None


@pytest.fixture
async def world(
    synapse: Synapse,  # noqa: F811
    sqlite_url: str,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """Makes (bot, person) pairs on the shared homeserver; everything is stopped afterwards."""
    engine = make_engine(sqlite_url)
    started: list[Bot | Person] = []

    async def make(
        encrypted_person: bool = False, start_bot: bool = True, clock: Clock = system_clock, **extra: Any
    ) -> tuple[Bot, Person, Account]:
        bot_account = synapse.register()
        settings = settings_for(synapse, bot_account, sqlite_url, tmp_path / "bot-store", **extra)
        bot = Bot(settings, engine, clock)
        if start_bot:
            await bot.start()
        started.append(bot)
        person = Person(synapse, synapse.register(), tmp_path / "person-store" if encrypted_person else None)
        await person.start()
        started.append(person)
        return bot, person, bot_account

    yield make
    for thing in reversed(started):
        await thing.stop()
    engine.dispose()


def profile_of(engine: sa.Engine, room_id: str) -> Profile | None:
    with Session(engine) as session:
        user = session.exec(
            select(User).where(User.transport == "matrix", User.external_id == room_id)
        ).first()
        return session.get(Profile, user.id) if user else None


async def test_direct_chat_dialog_by_numbers_and_text_survives_a_restart(world: Callable[..., Any]) -> None:
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.wait_member(room, bot_account.user_id)

    greeting = await person.next_message(room)
    assert t("de", "ask.situation") in greeting.body
    assert f"2) {t('de', 'situation.beschaeftigt')}" in greeting.body
    assert '<ol start="1">' in greeting.formatted_body

    await person.say(room, "2")  # a number picks the option
    assert t("de", "ask.district") in (await person.next_message(room)).body

    await person.say(room, "Ich wohne in Uelzen")  # free text fills the district
    assert t("de", "ask.sector") in (await person.next_message(room)).body

    await person.say(room, t("de", "sector.handwerk"))  # the label typed out
    goal_question = await person.next_message(room)
    assert t("de", "ask.goal") in goal_question.body

    await bot.stop()  # mid-dialog; the person answers while the bot is down
    await person.say(room, "1")  # must still mean the first goal shown before the restart
    await bot.start(fresh=True)
    results = await person.next_message(room)  # the first thing the restarted bot says is this answer
    assert t("de", "ask.goal") not in results.body, "the restarted bot answered an old message again"
    # one message: short numbered entries, then the options numbered from 1 ("1) Nr. 1" opens entry 1)
    assert results.body.count("Warum:") == 5
    assert f"1) {t('de', 'option.offer_number', n=1)}" in results.body

    profile = profile_of(bot.engine, room)
    assert profile is not None
    assert (profile.situation, profile.district, profile.sector) == (
        Situation.BESCHAEFTIGT,
        District.UELZEN,
        Sector.HANDWERK,
    )
    assert profile.goal == GOALS_BY_SITUATION[Situation.BESCHAEFTIGT][0]

    first_title = results.body.split("\n1. ", 1)[1].split("\n", 1)[0]
    await person.react(room, results.event_id, "1️⃣")  # first option of the results: details of offer 1
    details = await person.next_message(room)
    assert details.body.startswith(first_title) and "So geht es weiter" in details.body
    await person.say(room, "1")  # the details' first option: the provider's contact
    contact = await person.next_message(room)
    assert contact.body.startswith(t("de", "contact.header", name="").strip())


async def test_sender_delivers_text_options_and_a_calendar_file(world: Callable[..., Any]) -> None:
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting

    reminder = Reply(
        "Erinnerung: Morgen, 10:00 Uhr – Infotag Meisterschule <Lüneburg> & Umgebung",
        options=(Option("abo:stop", "Erinnerungen abbestellen"),),
        attachment=Attachment("termin.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
    )
    assert bot.runtime is not None
    result = await bot.runtime.sender.send(room, [reminder])
    assert result.status is DeliveryStatus.SENT

    text = await person.next_message(room)
    assert text.body.startswith("Erinnerung: Morgen, 10:00 Uhr")
    assert "&lt;Lüneburg&gt; &amp; Umgebung" in text.formatted_body  # offer text is escaped in HTML
    assert "1) Erinnerungen abbestellen" in text.body
    file_event = await person.next_event(room, (RoomMessageFile,))
    assert file_event.body == "termin.ics"


async def test_reminder_from_the_outbox_reaches_the_room(world: Callable[..., Any]) -> None:
    """The shared reminder dispatcher delivers through the MatrixSender into the conversation's room."""
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting; the conversation (user = room) exists now
    now = utcnow()
    with session_scope(bot.engine) as session:
        event = EventIn(
            id="infotag-matrix",
            title="Infotag Meisterschule",
            start=now + dt.timedelta(hours=23),
            place="Uelzen",
        )
        upsert_events(session, [event], now - dt.timedelta(days=3))
        user = session.exec(select(User).where(User.transport == "matrix", User.external_id == room)).one()
        assert user.id is not None
        session.add(Subscription(user_id=user.id, subscribed_at=now - dt.timedelta(days=2)))
    assert bot.runtime is not None
    rules = ReminderRules(leads=(dt.timedelta(days=1),), quiet=None)
    dispatcher = Dispatcher(bot.engine, {"matrix": bot.runtime.sender}, rules)
    _plan, report = await dispatcher.run_once()
    assert report.sent == 1

    reminder = await person.next_message(room)
    assert "Infotag Meisterschule" in reminder.body
    assert f"2) {t('de', 'option.abo_stop')}" in reminder.body
    remembered = state.load_options(bot.engine, room)  # "2" now means "stop reminders" in this room
    assert [o.id for o in remembered.options][-1] == "abo:stop"
    assert remembered.events == (reminder.event_id,)


async def test_delete_my_data_with_bang_command(world: Callable[..., Any]) -> None:
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting
    await person.say(room, "1")
    await person.next_message(room)
    assert profile_of(bot.engine, room) is not None

    await person.say(room, "!löschen")  # umlaut spelling of !loeschen
    confirm = await person.next_message(room)
    assert t("de", "privacy.delete_confirm") in confirm.body
    await person.say(room, "1")  # "Ja, alles löschen"
    done = await person.next_message(room)
    assert t("de", "privacy.deleted") in done.body
    assert profile_of(bot.engine, room) is None


async def test_group_room_answers_only_when_addressed(world: Callable[..., Any], synapse: Synapse) -> None:  # noqa: F811
    _bot, person, bot_account = await world(matrix_allow_rooms=f":{synapse.server_name}")
    third = synapse.register()
    room = await person.create_room(invite=[bot_account.user_id, third.user_id], direct=False)
    hello = await person.next_message(room)
    assert "!start" in hello.body and t("de", "ask.situation") not in hello.body

    await person.say(room, "Hallo zusammen, wer kommt morgen?")  # not meant for the bot: silence
    unreadable = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgA",
        "session_id": "s",
        "sender_key": "k",
    }
    await person.send(
        room, "m.room.encrypted", {**unreadable, "device_id": person.account.device_id}
    )  # silence
    await person.say(room, "!start")
    answer = await person.next_message(room)  # the next bot message answers the command, not the chatter
    assert t("de", "ask.situation") in answer.body

    localpart = bot_account.user_id.split(":")[0].lstrip("@")
    await person.say(room, f"{localpart}: 3")
    assert t("de", "ask.district") in (await person.next_message(room)).body


async def test_sender_honours_rate_limit_and_reports_left_rooms(
    world: Callable[..., Any],
    synapse: Synapse,  # noqa: F811
) -> None:
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)
    assert bot.runtime is not None and bot.runtime.client is not None
    now = [1000.0]
    sender = MatrixSender(
        bot.engine, bot_account.user_id, RateLimiter(100, per_key_rate=100), clock=lambda: now[0]
    )
    sender.client = bot.runtime.client

    # Synapse's per-account limit, tightened here (1/s, burst 1): a quick second message is refused
    synapse.override_ratelimit(bot_account.user_id, messages_per_second=1, burst_count=1)
    results = [await sender.send(room, [Reply(f"Nachricht {i}")]) for i in range(3)]
    refused = [r for r in results if r.status is DeliveryStatus.RETRY]
    assert refused and refused[0].detail == "M_LIMIT_EXCEEDED", results
    assert refused[0].retry_after is not None and refused[0].retry_after > 0  # from retry_after_ms
    assert results[-1].status is DeliveryStatus.RETRY  # paused: the account waits as Synapse asked

    synapse.override_ratelimit(bot_account.user_id, messages_per_second=0, burst_count=0)  # the README's lift
    now[0] += refused[0].retry_after + 1
    assert (await sender.send(room, [Reply("wieder da")])).status is DeliveryStatus.SENT
    while (await person.next_message(room)).body != "wieder da":
        pass

    assert (await sender.send("!unknown:bildungslotse.test", [Reply("x")])).status is DeliveryStatus.BLOCKED
    await person.leave(room)  # the person leaves: the bot leaves too and sends nothing more there
    await eventually(lambda: not room_joined(bot, room))
    assert (await sender.send(room, [Reply("noch da?")])).status is DeliveryStatus.BLOCKED
    await eventually(lambda: conversation_exists(bot, room) is False)  # nothing can reach it any more


def conversation_exists(bot: Bot, room_id: str) -> bool:
    with Session(bot.engine) as session:
        user = session.exec(
            select(User).where(User.transport == "matrix", User.external_id == room_id)
        ).first()
        return user is not None


def room_row_exists(bot: Bot, room_id: str) -> bool:
    with Session(bot.engine) as session:
        return session.get(MatrixRoom, (bot.settings.matrix_user_id, room_id)) is not None


def room_joined(bot: Bot, room_id: str) -> bool:
    return state.load_room(bot.engine, bot.settings.matrix_user_id or "", room_id).joined


async def eventually(check: Callable[[], bool], timeout: float = WAIT) -> None:
    """Polls a condition the bot reaches asynchronously; fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def test_encrypted_direct_chat_survives_a_restart(world: Callable[..., Any]) -> None:
    """Element opens direct chats encrypted: greeting, answers and a restart all work end-to-end encrypted."""
    bot, person, bot_account = await world(encrypted_person=True)
    room = await person.create_room(invite=[bot_account.user_id], encrypted=True)

    greeting = await person.next_message(room)
    assert greeting.decrypted, "the bot must answer encrypted in an encrypted room"
    assert t("de", "ask.situation") in greeting.body

    await person.say(room, "4")  # encrypted; the person trusts the bot's device
    district_question = await person.next_message(room)
    assert district_question.decrypted and t("de", "ask.district") in district_question.body

    assert bot.runtime is not None and bot.runtime.client is not None
    device_before = bot.runtime.client.device_id
    runtime = await bot.restart()  # the crypto store on disk keeps the sessions
    assert runtime.client is not None and runtime.client.device_id == device_before

    await person.say(room, "Ich wohne in Lüneburg")
    sector_question = await person.next_message(room)
    assert sector_question.decrypted and t("de", "ask.sector") in sector_question.body
    profile = profile_of(bot.engine, room)
    assert profile is not None and profile.district == District.LUENEBURG


async def test_first_start_treats_what_is_already_in_the_room_as_history(world: Callable[..., Any]) -> None:
    """A fresh bot account on a used server: the old message is not answered, the invitation is."""
    bot, person, bot_account = await world(start_bot=False)
    room = await person.create_room(invite=[bot_account.user_id])
    await person.say(room, "Hallo, ist da jemand?")  # written before the bot ever ran
    bot.settings = bot.settings.model_copy(
        update={"matrix_password": None, "matrix_access_token": SecretStr(bot_account.access_token)}
    )
    runtime = await bot.start()  # logs in with the access token this time
    assert runtime.client is not None and runtime.client.device_id == bot_account.device_id

    greeting = await person.next_message(room)
    assert t("de", "ask.situation") in greeting.body
    await person.say(room, "!hilfe")
    help_text = await person.next_message(room)  # not a second welcome for the old "Hallo"
    assert help_text.body.startswith(t("de", "help", p="!").splitlines()[0])
    assert "!termine" in help_text.body


async def test_without_e2e_support_plain_rooms_work_and_encrypted_ones_are_explained(
    world: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A machine where matrix-nio's e2e extra cannot be installed (simulated): say so, keep working."""
    monkeypatch.setattr("bot.matrix.client.e2e_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="bot.matrix.client"):
        bot, person, bot_account = await world(encrypted_person=True)
    assert "Verschlüsselte Räume werden auf diesem Rechner NICHT unterstützt" in caplog.text

    secret = await person.create_room(invite=[bot_account.user_id], encrypted=True)
    notice = await person.next_message(secret)
    assert notice.body == t("de", "matrix.encrypted_unsupported")
    assert bot.runtime is not None  # nothing else goes into that room in clear text, not even reminders
    refused = await bot.runtime.sender.send(secret, [Reply("Erinnerung: Infotag morgen")])
    assert refused.status is DeliveryStatus.FAILED

    plain = await person.create_room(invite=[bot_account.user_id])
    assert t("de", "ask.situation") in (await person.next_message(plain)).body
    await person.say(plain, "2")
    assert t("de", "ask.district") in (await person.next_message(plain)).body


async def test_bildungslotse_run_starts_matrix_when_it_is_configured(world: Callable[..., Any]) -> None:
    """`bildungslotse run` (bot.runner.serve) with only Matrix set up: the bot answers, then stops cleanly."""
    bot, person, bot_account = await world(start_bot=False)
    stop = asyncio.Event()
    port = free_port()
    server = asyncio.create_task(serve(bot.settings.model_copy(update={"http_port": port}), bot.engine, stop))
    try:
        room = await person.create_room(invite=[bot_account.user_id])
        assert t("de", "ask.situation") in (await person.next_message(room)).body
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 200 and health.json()["checks"]["transport:matrix"] == {"ok": True}
    finally:
        stop.set()
        await asyncio.wait_for(server, WAIT)


async def test_tofu_trusts_the_first_devices_but_not_a_session_added_later(
    world: Callable[..., Any],
    synapse: Synapse,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Trust on first use: a second session of the same person gets no room keys and is explained once."""
    bot, person, bot_account = await world(encrypted_person=True)
    room = await person.create_room(invite=[bot_account.user_id], encrypted=True)
    greeting = await person.next_message(room)
    assert greeting.decrypted and t("de", "ask.situation") in greeting.body
    assert bot.runtime is not None and bot.runtime.client is not None
    devices = bot.runtime.client.device_store[person.user_id]
    assert devices[person.account.device_id].verified  # the device seen at first contact

    second_account = synapse.login(person.account)  # later: the same account signs in elsewhere
    second = Person(synapse, second_account, tmp_path / "second-device")
    await second.start()
    try:
        notice = await person.next_message(room)
        assert notice.decrypted
        assert notice.body == t("de", "matrix.new_device", device=second_account.device_id)
        added = bot.runtime.client.device_store[person.user_id][second_account.device_id]
        assert added.blacklisted and not added.verified

        await person.say(room, "4")
        answer = await person.next_message(room)
        assert answer.decrypted and t("de", "ask.district") in answer.body
        while True:  # the new session sees the same answer, but cannot read it
            event = await second.next_event(room, (MegolmEvent, RoomMessageText))
            assert not isinstance(event, RoomMessageText), f"the new session could read: {event.body!r}"
            if event.event_id == answer.event_id:
                break

        await bot.restart()  # the decision is kept in the crypto store: no second notice
        await person.say(room, "Ich wohne in Lüneburg")
        after = await person.next_message(room)
        assert after.decrypted and t("de", "ask.sector") in after.body
        assert bot.runtime is not None and bot.runtime.client is not None
        assert bot.runtime.client.device_store[person.user_id][second_account.device_id].blacklisted
    finally:
        await second.stop()


async def test_trust_all_answers_encrypted_without_verifying(world: Callable[..., Any]) -> None:
    bot, person, bot_account = await world(encrypted_person=True, matrix_trust="all")
    room = await person.create_room(invite=[bot_account.user_id], encrypted=True)
    greeting = await person.next_message(room)
    assert greeting.decrypted and t("de", "ask.situation") in greeting.body
    assert bot.runtime is not None and bot.runtime.client is not None
    device = bot.runtime.client.device_store[person.user_id][person.account.device_id]
    assert not device.verified and device.ignored  # keys given, nothing marked as trusted


async def test_trust_none_sends_nothing_to_unverified_devices(world: Callable[..., Any]) -> None:
    bot, person, bot_account = await world(encrypted_person=True, matrix_trust="none")
    room = await person.create_room(invite=[bot_account.user_id], encrypted=True)
    await person.wait_member(room, bot_account.user_id)
    assert bot.runtime is not None and bot.runtime.client is not None
    client = bot.runtime.client
    await eventually(lambda: room in client.rooms)
    result = await bot.runtime.sender.send(room, [Reply("Erinnerung: Infotag morgen")])
    assert result.status is DeliveryStatus.FAILED and result.detail == "unverified devices (MATRIX_TRUST)"
    device = client.device_store[person.user_id][person.account.device_id]
    assert not device.verified and not device.ignored


async def test_invitations_only_to_direct_chats_and_listed_rooms_and_rows_go_after_leaving(
    world: Callable[..., Any],
    synapse: Synapse,  # noqa: F811
) -> None:
    bot, person, bot_account = await world(start_bot=False)
    alias = f"beratung{uuid.uuid4().hex[:8]}"
    canonical = await person.create_room(invite=[], direct=False, alias=alias)  # listed by its main alias
    listed = await person.create_room(invite=[], direct=False)
    extra = await person.client.room_put_alias(f"#{alias}-2:{synapse.server_name}", listed)  # another alias
    assert isinstance(extra, RoomPutAliasResponse), extra
    unlisted = await person.create_room(invite=[], direct=False)
    bot.settings = bot.settings.model_copy(
        update={
            "matrix_allow_rooms": f"!nirgends:example.org, #{alias}:{synapse.server_name}, "
            f"#{alias}-2:{synapse.server_name}"
        }
    )
    await bot.start()
    me = bot_account.user_id

    await person.invite(unlisted, me)  # a room nobody listed: declined
    await person.wait_member(unlisted, me, membership="leave")
    third = synapse.register()  # "direct" chosen by the inviter, but there is a third person: left again
    crowded = await person.create_room(invite=[me, third.user_id], direct=True)
    await person.wait_member(crowded, me)
    await person.wait_member(crowded, me, membership="leave")

    for room in (canonical, listed):  # listed rooms: joined
        await person.invite(room, me)
        await person.wait_member(room, me)
        assert t("de", "ask.situation") in (await person.next_message(room)).body  # only the two of them

    direct = await person.create_room(invite=[me])  # a direct chat: joined and greeted
    assert t("de", "ask.situation") in (await person.next_message(direct)).body
    await person.say(direct, "1")
    await person.next_message(direct)
    assert profile_of(bot.engine, direct) is not None and room_row_exists(bot, direct)

    await person.kick(direct, me)  # out of the room: the room's rows and its conversation are gone
    await eventually(lambda: not room_row_exists(bot, direct) and not conversation_exists(bot, direct))
    assert profile_of(bot.engine, direct) is None
    for room in (unlisted, crowded):
        assert not room_row_exists(bot, room) and not conversation_exists(bot, room)
    assert room_row_exists(bot, listed) and room_row_exists(bot, canonical)


async def test_undecryptable_messages_get_flood_control_and_one_notice_per_session(
    world: Callable[..., Any],
) -> None:
    """Garbage that looks encrypted costs the bot no more than text: a notice per session, then the brake."""
    _bot, person, bot_account = await world(flood_max_messages=4, flood_window_seconds=5)
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting

    def garbage(session: str) -> dict[str, Any]:
        return {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg",
            "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
            "session_id": session,
            "device_id": person.account.device_id,
        }

    await person.send(room, "m.room.encrypted", garbage("session-a"))
    await person.send(room, "m.room.encrypted", garbage("session-a"))  # same session: no second notice
    for name in ("session-b", "session-c", "session-d", "session-e"):
        await person.send(room, "m.room.encrypted", garbage(name))
    # the greeting's turn counts too: greeting, a, a, b are four; c earns the one warning, d and e nothing
    expected = [t("de", "matrix.undecryptable")] * 2 + [t("de", "flood")]
    got = [(await person.next_message(room)).body for _ in expected]
    assert got == expected

    await asyncio.sleep(5.5)  # the flood window has passed
    await person.say(room, "!hilfe")
    assert (await person.next_message(room)).body.startswith(t("de", "help", p="!").splitlines()[0])


# --- people, not rooms: admin rights and personal data (issue 15, items 3 and 4) --------------
async def bot_says(reader: Person, room: str, bot_id: str, part: str = "") -> Any:
    """The next message of the bot in the room containing `part` (others' messages are skipped)."""
    while True:
        message = await reader.next_message(room)
        if message.sender == bot_id and part in message.body:
            return message


async def _with_admin(bot: Bot, person: Person) -> None:
    """Restarts the bot with the person listed as admin, in the documented form matrix:@name:server."""
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"admin_ids": f"matrix:{person.user_id}"})
    await bot.start(fresh=True)


async def test_the_documented_matrix_admin_gets_statistics_in_a_direct_chat(
    world: Callable[..., Any],
) -> None:
    bot, person, bot_account = await world(start_bot=False)
    await _with_admin(bot, person)
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting
    await person.say(room, "!statistik")
    stats = await person.next_message(room)
    assert stats.body.startswith(t("de", "admin.stats_header"))


async def test_in_a_room_of_three_data_and_admin_confirmations_stay_personal(
    world: Callable[..., Any],
    synapse: Synapse,  # noqa: F811
) -> None:
    """A direct chat turns into a room of three: the newcomer neither sees nor deletes the earlier
    profile, and cannot confirm the admin's pending cancellation (not even by reaction)."""
    bot, person, bot_account = await world(start_bot=False)
    await _with_admin(bot, person)
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting
    await person.say(room, "1")
    await person.next_message(room)
    assert profile_of(bot.engine, room) is not None
    now = utcnow()
    with session_scope(bot.engine) as session:
        upsert_events(
            session,
            [EventIn(id="ev-room", title="Infotag", start=now + dt.timedelta(days=9), place="Uelzen")],
            now,
        )

    newcomer = Person(synapse, synapse.register())
    await newcomer.start()
    try:
        await person.client.room_invite(room, newcomer.user_id)
        await newcomer.client.join(room)
        await person.wait_member(room, newcomer.user_id)
        for command in ("!meinedaten", "!loeschen"):
            await newcomer.say(room, command)
            refusal = t("de", "privacy.private_only.matrix")  # what joining shows of the past is skipped
            assert (await bot_says(newcomer, room, bot_account.user_id, refusal)).body == refusal
        assert profile_of(bot.engine, room) is not None  # nothing deleted
        await newcomer.say(room, "!profil")  # and the shared room shows nothing of the earlier answers
        await bot_says(newcomer, room, bot_account.user_id, t("de", "profile.empty", p="!"))

        await person.say(room, "!termin_absagen ev-room")
        preview = await bot_says(person, room, bot_account.user_id, t("de", "admin.cancel_preview"))
        await newcomer.react(room, preview.event_id, "1️⃣")  # the newcomer "confirms": ignored
        await person.react(room, preview.event_id, "1️⃣")  # handled after it (one room, in order)
        await bot_says(person, room, bot_account.user_id, t("de", "admin.cancelled"))  # not "already"
        with Session(bot.engine) as session:
            actions = session.exec(select(AuditEntry.actor, AuditEntry.action)).all()
        assert [tuple(a) for a in actions] == [(f"matrix:{person.user_id}", "event_cancel")]
    finally:
        await newcomer.stop()


def subscription_of(engine: sa.Engine, room_id: str) -> Subscription | None:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.transport == "matrix", User.external_id == room_id)).one()
        return session.exec(select(Subscription).where(Subscription.user_id == user.id)).first()


async def test_a_direct_chat_that_gets_a_third_member_pauses_personal_reminders(
    world: Callable[..., Any],
    synapse: Synapse,  # noqa: F811
) -> None:
    """Subscribed in a direct chat; a newcomer joins: the room is told once, neutrally, that personal
    reminders are paused; a reminder that is due anyway is skipped at send time (marked, not
    retried); after the newcomer leaves they stay paused until the person subscribes again."""
    bot, person, bot_account = await world()
    room = await person.create_room(invite=[bot_account.user_id])
    await person.next_message(room)  # greeting
    await person.say(room, "!abo")
    await bot_says(person, room, bot_account.user_id, t("de", "option.abo_yes"))
    await person.say(room, "1")  # "Ja, erinnern"
    await bot_says(person, room, bot_account.user_id, t("de", "abo.done"))
    sub = subscription_of(bot.engine, room)
    assert sub is not None and sub.active and sub.personal
    now = utcnow()
    with session_scope(bot.engine) as session:
        upsert_events(
            session,
            [
                EventIn(
                    id="ev-private",
                    title="Infotag Pflege",
                    start=now + dt.timedelta(hours=23),
                    place="Uelzen",
                )
            ],
            now - dt.timedelta(days=3),
        )

    newcomer = Person(synapse, synapse.register())
    await newcomer.start()
    try:
        await person.invite(room, newcomer.user_id)
        await newcomer.client.join(room)
        # joining shows the room's history first; the notice says nothing of what was subscribed
        paused = t("de", "matrix.reminders_paused", p="!")
        assert (await bot_says(newcomer, room, bot_account.user_id, paused)).body == paused
        sub = subscription_of(bot.engine, room)
        assert sub is not None and not sub.active and sub.end_reason == "shared"

        await newcomer.say(room, "!profil")  # answered: the bot has seen the join as well
        answer = await bot_says(newcomer, room, bot_account.user_id)  # the next word of the bot: told once
        assert t("de", "profile.empty", p="!") in answer.body
        # the safety net: a personal subscription the runtime has not paused yet (simulated) is due
        with session_scope(bot.engine) as session:
            missed = session.get(Subscription, sub.id)
            assert missed is not None
            missed.active, missed.subscribed_at = True, now - dt.timedelta(days=2)  # the 1-day lead is due
            session.add(missed)
        assert bot.runtime is not None
        rules = ReminderRules(leads=(dt.timedelta(days=1),), quiet=None)
        dispatcher = Dispatcher(bot.engine, {"matrix": bot.runtime.sender}, rules)
        _plan, report = await dispatcher.run_once()
        assert (report.sent, report.skipped, report.retried) == (0, 1, 0)
        with Session(bot.engine) as session:
            [row] = session.exec(select(Delivery)).all()
        assert (row.status, row.detail, row.attempts) == ("skipped", SHARED_ROOM, 1)
        _plan, again = await dispatcher.run_once()
        assert again.total == 0  # a skipped row is done: not retried
        await bot.runtime.sender.deliver(room, [Reply("Kontrollnachricht")])
        assert (await bot_says(newcomer, room, bot_account.user_id, "")).body == "Kontrollnachricht"
        with session_scope(bot.engine) as session:
            again_missed = session.get(Subscription, sub.id)
            assert again_missed is not None
            again_missed.active, again_missed.end_reason = False, "shared"
            session.add(again_missed)

        await newcomer.leave(room)
        await person.wait_member(room, newcomer.user_id, "leave")
    finally:
        await newcomer.stop()
    # 1:1 again: still paused, the person decides; "!abo" offers a new subscription, made private again
    await person.say(room, "!abo")
    await bot_says(person, room, bot_account.user_id, t("de", "option.abo_yes"))
    await person.say(room, "1")
    await bot_says(person, room, bot_account.user_id, t("de", "abo.done"))
    sub = subscription_of(bot.engine, room)
    assert sub is not None and sub.active and sub.personal
