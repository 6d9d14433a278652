"""`!kurse Pflegefachkraft` on Matrix: the bot on the real Synapse of the test session, the course
search against the Weiterbildungssuche stand-in on 127.0.0.1 – nothing mocked in between.

What a Matrix user sees: one message with the numbered courses (title, provider and town, start,
Bildungsgutschein), a link per course and the filters as numbered options; a filter chosen by
reaction or by its number brings a new list. The bot's clock is pinned to the day the fixtures
were written for (`tests.test_courses.NOW`), so "current courses" never go stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from handlers.catalogue import t
from tests.course_api_stub import CourseApiStub
from tests.matrix_homeserver import synapse  # noqa: F401 (fixture)
from tests.test_courses import NOW
from tests.test_matrix_synapse import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.matrix

UMSCHULUNG = "Umschulung Pflegefachkraft (m/w/d)"  # Lüneburg, full time, 01.04.2027, with link
ANPASSUNG = "Pflegefachkraft – Anpassungsqualifizierung"  # Uelzen (31 km), part time, 01.02.2027


def with_courses(stub: CourseApiStub) -> dict[str, Any]:
    """This bot only: the live search on, aimed at the stand-in (conftest switches it off for all)."""
    return {"course_search": "on", "course_api_base_url": stub.base_url, "clock": lambda: NOW}


def numbered_options(body: str) -> dict[str, int]:
    """The options as the message numbers them ("3) Nur Teilzeit" → {"Nur Teilzeit": 3})."""
    found: dict[str, int] = {}
    for line in body.splitlines():
        number, sep, label = line.partition(") ")
        if sep and number.isdigit():
            found[label] = int(number)
    return found


async def test_kurse_in_a_direct_chat_lists_courses_and_filters_by_reaction_and_number(
    world: Callable[..., Any],  # noqa: F811
) -> None:
    async with CourseApiStub() as courses:
        _bot, person, bot_account = await world(**with_courses(courses))
        room = await person.create_room(invite=[bot_account.user_id])
        await person.next_message(room)  # greeting

        await person.say(room, "!kurse Pflegefachkraft")
        listed = await person.next_message(room)
        body = listed.body
        header = t("de", "courses.header", keyword="Pflegefachkraft", km=25, place="Lüneburg")
        assert body.startswith(header)
        assert f"1. {UMSCHULUNG}" in body
        assert "Pflegeschule Lüneburg (Beispiel) · Lüneburg (0 km)" in body  # provider and town
        assert "Beginn 01.04.2027 · Vollzeit" in body
        assert t("de", "courses.voucher_yes") in body
        assert ANPASSUNG not in body  # Uelzen is 31 km from Lüneburg
        assert f"→ 1. {UMSCHULUNG}: https://kurse.example.org/pflegefachkraft-lueneburg" in body
        assert '<a href="https://kurse.example.org/pflegefachkraft-lueneburg">' in listed.formatted_body
        options = numbered_options(body)
        assert options["Umkreis 50 km"] == 1  # the filters are numbered from 1, as the reactions
        assert t("de", "matrix.options_hint", p="!") in body

        await person.react(room, listed.event_id, "1️⃣")  # "Umkreis 50 km"
        wider = await person.next_message(room)
        assert wider.body.startswith(
            t("de", "courses.header", keyword="Pflegefachkraft", km=50, place="Lüneburg")
        )
        assert f"1. {ANPASSUNG}" in wider.body and f"2. {UMSCHULUNG}" in wider.body  # earliest first
        assert "Klinikum-Akademie Uelzen (Beispiel) · Uelzen (31 km)" in wider.body
        assert "Beginn 01.02.2027 · Teilzeit" in wider.body
        assert f"→ 2. {UMSCHULUNG}: https://kurse.example.org/pflegefachkraft-lueneburg" in wider.body

        part_time = numbered_options(wider.body)[t("de", "option.courses_time.teil")]
        await person.say(room, str(part_time))  # the number of "Nur Teilzeit", typed
        narrowed = await person.next_message(room)
        head, summary = narrowed.body.split("\n\n")[:2]
        assert head == t("de", "courses.header", keyword="Pflegefachkraft", km=50, place="Lüneburg")
        assert summary.startswith(t("de", "courses.time.teil"))
        assert f"1. {ANPASSUNG}" in narrowed.body and UMSCHULUNG not in narrowed.body
        assert [(r["uk"], r.get("uz")) for r in courses.requests] == [("25", None), ("50", None), ("50", "2")]


async def test_kurse_when_the_search_is_down_is_one_line(world: Callable[..., Any]) -> None:  # noqa: F811
    async with CourseApiStub() as courses:
        courses.mode = "500"
        _bot, person, bot_account = await world(**with_courses(courses))
        room = await person.create_room(invite=[bot_account.user_id])
        await person.next_message(room)  # greeting

        await person.say(room, "!kurse Pflegefachkraft")
        note = await person.next_message(room)
        assert note.body == t("de", "courses.unavailable")
        assert courses.requests  # it was asked, and failed
