"""Telegram transport pieces without a network: callback data, rendering, commands, rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ratelimit import RateLimiter, TokenBucket
from bot.telegram import callback_data, render
from bot.telegram.updates import parse_command
from handlers.turn import Attachment, Link, Option, Reply
from knowledge.base import KnowledgeBase

AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# --- callback data ------------------------------------------------------------------------------
def test_every_option_the_dialog_can_show_fits_into_callback_data(kb: KnowledgeBase) -> None:
    ids = [f"{prefix}:{offer.id}" for offer in kb.offers for prefix in ("offer", "contact")]
    ids += ["sit:wiedereinstieg", "dist:luechow", "sec:gastronomie", "goal:anerkennung", "edit:situation"]
    for option_id in ids:
        for on_question in (True, False):
            data = callback_data.encode(option_id, on_question)
            assert len(data.encode()) <= 64
            assert callback_data.decode(data) == callback_data.ButtonPress(option_id, on_question)


@pytest.mark.parametrize("bad", ["sit:lüneburg", "x" * 60, "", "a|b", "with space"])
def test_ids_that_cannot_travel_are_refused_when_the_keyboard_is_built(bad: str) -> None:
    with pytest.raises(callback_data.CallbackDataError):
        callback_data.encode(bad, True)


@pytest.mark.parametrize(
    "forged",
    [
        None,
        "",
        "sit:betrieb",
        "v2|q|sit:betrieb",
        "v1|x|sit:betrieb",
        "v1|q|",
        "v1|q|sit:lü",
        "v1|q|a|b",
        "v1|q|" + "a" * 60,
        "v1|q|sit:betrieb\n",
        42,
    ],
)
def test_stale_or_forged_data_is_recognised(forged: object) -> None:
    assert callback_data.decode(forged) is None


@given(st.text(max_size=80))
def test_decoding_any_text_never_raises_and_only_accepts_what_encode_makes(data: str) -> None:
    press = callback_data.decode(data)
    if press is not None:
        assert callback_data.encode(press.option_id, press.on_question) == data


# --- rendering ----------------------------------------------------------------------------------
@given(st.lists(st.text(alphabet="abc äöü\n", min_size=0, max_size=1500), max_size=12))
def test_long_texts_are_split_below_the_limit_without_losing_words(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    chunks = render.split_text(text, limit=700)
    assert all(0 < len(chunk) <= 700 for chunk in chunks)
    assert "".join(chunks).split() == text.split()


def test_splitting_prefers_paragraph_boundaries() -> None:
    paragraphs = [f"Absatz {i}: " + "Wort " * 150 for i in range(12)]
    chunks = render.split_text("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(len(c) <= render.MAX_TEXT for c in chunks)
    assert all(c.startswith("Absatz ") for c in chunks)


@given(st.text(alphabet="a ä\n😀👍🏽\u200d👩💻🇩🇪", min_size=0, max_size=6000))
def test_splitting_counts_utf16_units_like_telegram(text: str) -> None:
    chunks = render.split_text(text, limit=300)
    assert all(0 < render.utf16_len(chunk) <= 300 for chunk in chunks)
    assert "".join(chunks).split() == text.split()


def test_three_thousand_emoji_fit_into_messages_telegram_accepts() -> None:
    chunks = render.split_text("😀" * 3000)
    assert [len(c.encode("utf-16-le")) // 2 for c in chunks] == [4096, 1904]
    assert "".join(chunks) == "😀" * 3000


def _rows(reply: Reply) -> list[list[str]]:
    markup = render.keyboard(reply)
    assert markup is not None
    return [[b.text for b in row] for row in markup.inline_keyboard]


def test_short_labels_share_a_row_and_long_ones_stand_alone() -> None:
    reply = Reply(
        "Frage?",
        options=(
            Option("nav:a", "Details"),
            Option("nav:b", "Kontakt"),
            Option("dist:luechow", "Landkreis Lüchow-Dannenberg"),
            Option("nav:back", "Zurück"),
        ),
        question=True,
    )
    assert _rows(reply) == [["Details", "Kontakt"], ["Landkreis Lüchow-Dannenberg"], ["Zurück"]]


def test_links_become_url_buttons_and_unusable_urls_are_left_out() -> None:
    reply = Reply(
        "Kontakt",
        links=(
            Link("IHK", "https://www.ihk.de/lueneburg"),
            Link("kaputt", "javascript:alert(1)"),
            Link("IHK doppelt", "https://www.ihk.de/lueneburg"),
        ),
    )
    markup = render.keyboard(reply)
    assert markup is not None
    buttons = [b for row in markup.inline_keyboard for b in row]
    assert [(b.text, b.url) for b in buttons] == [("IHK", "https://www.ihk.de/lueneburg")]


def test_question_buttons_are_marked_for_editing_in_place_and_cards_are_not() -> None:
    question = render.keyboard(Reply("?", options=(Option("sit:schule", "Schule"),), question=True))
    card = render.keyboard(Reply("1.", options=(Option("offer:abc", "Details"),)))
    assert question is not None and card is not None
    q_press = callback_data.decode(question.inline_keyboard[0][0].callback_data)
    c_press = callback_data.decode(card.inline_keyboard[0][0].callback_data)
    assert q_press is not None and q_press.on_question
    assert c_press is not None and not c_press.on_question


def test_a_results_page_numbers_share_one_row_and_open_details_beside_the_page() -> None:
    numbered = tuple(Option(f"offer:o{n}", f"Nr. {n}", beside=True) for n in range(1, 7))
    reply = Reply(
        "1. …",
        options=(*numbered, Option("nav:more", "Mehr Angebote"), Option("nav:back", "Zurück")),
        question=True,
    )
    assert _rows(reply) == [
        ["Nr. 1", "Nr. 2", "Nr. 3", "Nr. 4", "Nr. 5"],
        ["Nr. 6"],
        ["Mehr Angebote", "Zurück"],
    ]
    markup = render.keyboard(reply)
    assert markup is not None
    presses = [callback_data.decode(b.callback_data) for row in markup.inline_keyboard for b in row]
    # details open as a new message (the page stays); paging replaces the page in place
    assert [p.on_question for p in presses if p is not None] == [False] * 6 + [True, True]


def test_text_only_replies_go_into_the_next_message() -> None:
    question = Reply("Frage?", options=(Option("sit:schule", "Schule"),), question=True)
    grouped = render.grouped([Reply("Guten Tag!"), Reply("Verstanden."), question, Reply("Tschüss.")])
    assert grouped == [
        Reply("Guten Tag!\n\nVerstanden.\n\nFrage?", options=question.options, question=True),
        Reply("Tschüss."),
    ]
    too_long = Reply("x" * 4090)
    assert render.grouped([too_long, question]) == [too_long, question]  # never past Telegram's limit


def test_a_long_reply_keeps_its_keyboard_under_the_last_part_and_files_follow() -> None:
    reply = Reply(
        "\n\n".join(["Satz " * 300] * 5),
        options=(Option("nav:more", "Mehr"),),
        attachment=Attachment("termin.ics", "text/calendar", b"BEGIN:VCALENDAR"),
    )
    out = render.messages_for(reply)
    assert len(out) >= 3
    assert [m.markup is not None for m in out[:-1]] == [False] * (len(out) - 2) + [True]
    assert out[-1].document is not None and out[-1].document.filename == "termin.ics"


# --- commands ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ("start", "")),
        ("/START@Bildungslotse_Test_Bot", ("start", "")),
        ("/start kampagne-2025", ("start", "kampagne-2025")),
        ("/hilfe\nbitte", ("hilfe", "bitte")),
        ("/start@other_bot", None),
        ("/ start", None),
        ("/pfad/zu/datei", None),
    ],
)
def test_commands_are_read_like_telegram_clients_send_them(
    text: str, expected: tuple[str, str] | None
) -> None:
    assert parse_command(text, "bildungslotse_test_bot") == expected


# --- rate limiter ------------------------------------------------------------------------------
def test_a_bucket_allows_its_burst_then_spaces_requests_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    waits = [bucket.reserve(0.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert bucket.reserve(10.0) == 0.0  # refilled after a pause


async def test_per_chat_limits_do_not_slow_other_chats_but_the_overall_limit_does() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=3.0, per_key_rate=1.0, per_key_burst=1, clock=clock, sleep=clock.sleep)
    await limiter.acquire("a")
    await limiter.acquire("a")  # second to the same chat waits a second
    assert clock.slept == [1.0]
    clock.slept.clear()
    await limiter.acquire("b")
    await limiter.acquire("c")
    await limiter.acquire("d")  # four messages within a second exceed the overall 3/s
    assert sum(clock.slept) > 0


async def test_groups_get_their_own_slower_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=100.0, per_key_rate=1.0, per_key_burst=1, clock=clock, sleep=clock.sleep)
    await limiter.acquire(-100, rate=20 / 60, burst=1)
    await limiter.acquire(-100, rate=20 / 60, burst=1)
    assert clock.slept == [pytest.approx(3.0)]


def test_idle_per_chat_buckets_are_forgotten_and_busy_ones_kept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1000.0, per_key_rate=1.0, per_key_burst=2, clock=clock, sleep=clock.sleep)
    assert [limiter.reserve_key("busy") for _ in range(4)] == [0.0, 0.0, 1.0, 2.0]  # booked up to t+2 s
    for chat in range(50):
        limiter.reserve_key(chat)
        clock.now += 0.5
    assert len(limiter) <= 6  # the chats of the last 2 s (full again after 2 tokens ÷ 1/s), not all 51
    clock.now = 0.0
    limiter = RateLimiter(rate=1000.0, per_key_rate=1.0, per_key_burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        limiter.reserve_key("busy")
    limiter.reserve_key("other")
    clock.now += 1.0
    limiter.reserve_key("third")  # "busy" is still booked ahead: kept, its queue goes on
    assert limiter.reserve_key("busy") == pytest.approx(2.0)


def test_a_button_that_cannot_be_encoded_is_dropped_not_the_whole_answer() -> None:
    reply = Reply("Frage?", options=(Option("sit:schule", "Schule"), Option("kaputt:ü", "Kaputt")))
    assert _rows(reply) == [["Schule"]]


# --- who wrote: the person, not the chat -------------------------------------------------------
def _message(chat: dict[str, object], sender: dict[str, object] | None, **extra: object) -> object:
    from telegram import Message

    data = {"message_id": 1, "date": 0, "chat": chat, "text": "/statistik", **extra}
    if sender is not None:
        data["from"] = sender
    return Message.de_json(data, None)


def test_turns_name_the_sender_and_whether_the_chat_is_private() -> None:
    from bot.telegram.updates import message_turn

    person = {"id": 4711, "is_bot": False, "first_name": "Ann"}
    group = {"id": -100555, "type": "supergroup", "title": "Team"}
    direct = message_turn(_message({"id": 4711, "type": "private"}, person), "lotse_bot", 1, AT)  # type: ignore[arg-type]
    assert direct is not None and (direct.user_id, direct.sender_id, direct.private) == ("4711", "4711", True)
    in_group = message_turn(_message(group, person), "lotse_bot", 1, AT)  # type: ignore[arg-type]
    assert in_group is not None and (in_group.user_id, in_group.sender_id) == ("-100555", "4711")
    assert not in_group.private and in_group.direct_url == "https://t.me/lotse_bot"
    # an anonymous group admin writes as the group: nobody in particular, never an admin
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    masked = message_turn(_message(group, anonymous, sender_chat=group), "lotse_bot", 1, AT)  # type: ignore[arg-type]
    assert masked is not None and masked.sender_id == "-100555"
