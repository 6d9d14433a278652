"""Live courses: mapping the documented shapes, the client against a local stand-in, the cache,
the filters, and dialogs that end with courses – or, with the API down, with the curated offers
and a one-line note. Nothing here leaves 127.0.0.1 (tests/course_api_stub.py); every fixture in
tests/fixtures/courses names the shape it copies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.app import build_features, course_resolvers
from bot.console import chat
from bot.conversation import ConversationService
from bot.courses import CourseLookup
from bot.matrix.inbound import parse_text
from bot.matrix.render import render as render_matrix
from bot.settings import SettingsError, load_settings
from db.engine import make_engine
from handlers.courses import CourseRequest
from handlers.feature_settings import FeatureSettings
from handlers.turn import Reply, Turn, TurnKind
from knowledge.base import KnowledgeBase
from knowledge.courses.client import CourseClient, CourseSearchUnavailable
from knowledge.courses.mapping import MalformedResponse, parse_page
from knowledge.courses.model import CourseFilter, CourseQuery
from knowledge.courses.selection import select
from tests.course_api_stub import FIXTURES, KEY, CourseApiStub, fixture

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)  # the fixtures' dates are 2027: pinned, never stale
TTL = dt.timedelta(hours=6)
WINSEN = CourseQuery(filter=CourseFilter(keyword="Fachwirt"), place="Winsen (Luhe)", lat=53.3484, lon=10.2068)


def envelope(name: str) -> dict[str, object]:
    records = fixture(name)
    return {"_embedded": {"termine": records}, "page": {"size": 20, "totalElements": len(records)}}


def fast_client(base_url: str, key: str = KEY) -> CourseClient:
    return CourseClient(base_url, key, timeout=0.5, deadline=2.0, retries=1, backoff=0.01)


@pytest.fixture
async def stub() -> AsyncIterator[CourseApiStub]:
    async with CourseApiStub() as server:
        yield server


def make_service(
    engine: sa.Engine, kb: KnowledgeBase, base_url: str, *, courses: bool = True
) -> ConversationService:
    lookup = CourseLookup(engine, fast_client(base_url), TTL)
    return ConversationService(
        engine,
        kb,
        FeatureSettings(),
        build_features(courses=courses),
        resolvers={CourseRequest: lookup.resolve},
    )


def turn(user: str, *, at: dt.datetime = NOW, transport: str = "console", **kw: object) -> Turn:
    if "command" in kw:
        kind = TurnKind.COMMAND
    elif "option_id" in kw:
        kind = TurnKind.OPTION
    else:
        kind = TurnKind.TEXT
    return Turn(transport, user, kind, at=at, **kw)  # type: ignore[arg-type]


def course_reply(replies: list[Reply]) -> Reply:
    found = [r for r in replies if r.text.startswith(("Passende Kurse", "Courses near you"))]
    assert len(found) == 1, [r.text[:60] for r in replies]
    return found[0]


def card_titles(reply: Reply) -> list[str]:
    return [
        block.split("\n")[0].split(". ", 1)[1]
        for block in reply.text.split("\n\n")
        if block[:2] in {f"{n}." for n in range(1, 10)}
    ]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- mapping ---------------------------------------------------------------------------------------


def test_a_full_record_of_the_recorded_v2_shape_maps_every_field_the_user_sees() -> None:
    page = parse_page(envelope("termine_v2_region.json"))
    course = next(c for c in page.courses if c.title == "Geprüfte/r Handelsfachwirt/in (IHK)")
    assert course.provider == "Bildungswerk Winsen (Beispiel)"  # angebot.bildungsanbieter.name
    assert (course.town, course.postcode) == ("Winsen (Luhe)", "21423")  # adresse.ortStrasse
    assert course.start == dt.date(2027, 1, 11)  # epoch milliseconds, read in Berlin time
    assert (course.time, course.form, course.voucher) == ("teil", "vorort", True)
    assert course.url == "https://kurse.example.org/handelsfachwirt-winsen"
    assert page.skipped == 0 and page.total == len(page.courses)


def test_the_documented_v1_shape_and_sparse_records_map_with_gaps_tolerated() -> None:
    page = parse_page(envelope("termine_v1_sparse.json"))
    full, sparse, dated = page.courses
    assert (
        full.town == "Lüneburg" and full.provider == "Musteranbieter Lüneburg"
    )  # ortStraße, adresse.bezeichnung
    assert full.start == dt.date(2027, 3, 1) and full.url == "https://www.bildungsanbieter.example/angebot"
    assert (sparse.title, sparse.town, sparse.start, sparse.voucher, sparse.lat) == (
        "Buchführung kompakt",
        "Uelzen",
        None,
        None,
        None,
    )
    assert dated.start == dt.date(2027, 3, 15) and dated.provider is None and dated.url is None


def test_malformed_records_are_left_out_and_counted_a_bad_envelope_is_an_error() -> None:
    page = parse_page(envelope("termine_malformed.json"))
    assert [c.title for c in page.courses] == ["Gültiger Kurs"]
    assert page.courses[0].start is None  # "irgendwann" is no date, but no reason to drop the course
    assert page.skipped == 4
    bad: object
    for bad in (["a list"], {"_embedded": {"termine": "x"}}, {"_embedded": []}, {"unrelated": 1}):
        with pytest.raises(MalformedResponse):
            parse_page(bad)
    assert parse_page({"page": {"totalElements": 0}}).courses == []  # an empty result may omit _embedded


def test_selection_keeps_current_fitting_courses_soonest_first() -> None:
    courses = parse_page(envelope("termine_v2_region.json")).courses
    today = NOW.date()
    shown = select(WINSEN, courses, today)
    assert len(shown) == 5
    assert "Handelsfachwirt/in – Sommerkurs" not in [c.title for c in shown]  # started in June 2026
    assert all(c.town != "Uelzen" for c in shown)  # 49 km: outside 25 km even if the server sent it
    assert [c.start for c in shown] == sorted(c.start for c in shown if c.start)
    part_time = select(
        WINSEN.model_copy(update={"filter": CourseFilter(keyword="x", time="teil")}), courses, today
    )
    assert part_time and all(c.time == "teil" for c in part_time)
    voucher = select(
        WINSEN.model_copy(update={"filter": CourseFilter(keyword="x", voucher_only=True)}), courses, today
    )
    assert "Fachwirt/in für Einkauf" not in [c.title for c in voucher]  # foerderung: false
    online = select(
        WINSEN.model_copy(update={"filter": CourseFilter(keyword="x", form="online")}), courses, today
    )
    assert [c.title for c in online][:1] == [
        "Fachwirt/in Büro- und Projektorganisation (online)"
    ]  # Berlin, online


# --- the client against the stand-in ----------------------------------------------------------------


async def test_the_client_sends_the_documented_key_and_parameters(stub: CourseApiStub) -> None:
    query = WINSEN.model_copy(
        update={
            "filter": CourseFilter(
                keyword="Fachwirt", radius=50, time="voll", voucher_only=True, form="vorort"
            )
        }
    )
    page = await fast_client(stub.base_url).search(query)
    assert stub.keys == [KEY]
    sent = stub.requests[0]
    assert sent["orte"] == "Winsen (Luhe)_10.20680_53.34840"  # Name_lon_lat
    assert (sent["sw"], sent["uk"], sent["bg"], sent["uz"], sent["page"]) == (
        "Fachwirt",
        "50",
        "true",
        "1",
        "0",
    )
    assert sent["uf"].split(",")[0] == "101"
    assert page.courses and all(c.time == "voll" and c.voucher for c in page.courses)


async def test_the_client_pages_on_when_the_first_page_has_too_few_current_courses() -> None:
    template = fixture("termine_v2_region.json")[0]
    past = [dict(template, id=i, beginn=1_700_000_000_000) for i in range(20)]  # Nov 2023: long over
    current = [dict(template, id=100 + i) for i in range(3)]
    async with CourseApiStub(records=past + current) as server:
        page = await fast_client(server.base_url).search(
            WINSEN, want=3, keep=lambda c: c.start is not None and c.start > NOW.date()
        )
    assert [r["page"] for r in server.requests] == ["0", "1"]
    assert len(page.courses) == 23


@pytest.mark.parametrize(
    ("mode", "key", "requests"),
    [("ok", "falscher-schluessel", 1), ("500", KEY, 2), ("not_json", KEY, 1), ("bad_envelope", KEY, 1)],
)
async def test_failures_become_one_named_error_with_bounded_retries(
    stub: CourseApiStub, mode: str, key: str, requests: int
) -> None:
    stub.mode = mode
    with pytest.raises(CourseSearchUnavailable):
        await fast_client(stub.base_url, key).search(WINSEN)
    assert len(stub.requests) == requests  # 401 and bad bodies are not asked again; a 500 once more


async def test_a_response_slower_than_the_timeout_is_unavailable(stub: CourseApiStub) -> None:
    stub.mode, stub.delay = "slow", 1.5
    with pytest.raises(CourseSearchUnavailable) as err:
        await CourseClient(stub.base_url, KEY, timeout=0.2, deadline=1.0, retries=1, backoff=0.01).search(
            WINSEN
        )
    assert err.value.reason in ("timeout", "deadline exceeded")


# --- the cache --------------------------------------------------------------------------------------


async def test_the_same_query_within_the_ttl_is_not_asked_again(
    engine: sa.Engine, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    service = make_service(engine, kb, stub.base_url)
    first = await service.handle(turn("anna", command="kurse", args="Fachwirt"))
    again = await service.handle(
        turn("ben", command="kurse", args="  fachwirt ", at=NOW + dt.timedelta(hours=5))
    )
    assert len(stub.requests) == 1
    assert card_titles(course_reply(first)) == card_titles(course_reply(again))
    await service.handle(
        turn("carl", command="kurse", args="Fachwirt", at=NOW + dt.timedelta(hours=6, minutes=1))
    )
    assert len(stub.requests) == 2  # stale after COURSE_CACHE_TTL: asked again


# --- dialogs ----------------------------------------------------------------------------------------


async def test_winsen_fachwirt_ends_with_five_courses_within_25_km_and_widens_with_one_tap(
    engine: sa.Engine, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    service = make_service(engine, kb, stub.base_url)
    await service.handle(turn("anna", command="start"))
    replies = await service.handle(
        turn("anna", text="Ich bin Kaufmann aus Winsen und will den Fachwirt machen")
    )
    texts = [r.text for r in replies]
    assert any(t.startswith("Das passt zu Ihnen") for t in texts)  # the curated offers come first
    courses = course_reply(replies)
    assert replies[-1] is courses
    assert "„Fachwirt“ im Umkreis von 25 km um Winsen (Luhe)" in courses.text
    assert card_titles(courses) == [
        "Geprüfte/r Handelsfachwirt/in (IHK)",
        "Geprüfte/r Wirtschaftsfachwirt/in (IHK)",
        "Fachwirt/in im Gesundheits- und Sozialwesen",
        "Industriefachwirt/in (IHK)",
        "Fachwirt/in Logistik",
    ]
    assert "Beginn 11.01.2027" in courses.text and "Winsen (Luhe) (0 km)" in courses.text
    assert courses.text.count("für den Bildungsgutschein zugelassen") == 5
    assert "Bildungswerk Winsen (Beispiel)" in courses.text and "Teilzeit" in courses.text
    assert [link.url for link in courses.links][:2] == [
        "https://kurse.example.org/handelsfachwirt-winsen",
        "https://www.akademie-lueneburg.example/wirtschaftsfachwirt",
    ]
    assert stub.requests[0]["uk"] == "25" and "bg" not in stub.requests[0]  # employed: all courses
    assert "kurs:r:50" in [o.id for o in courses.options]

    wider = course_reply(await service.handle(turn("anna", option_id="kurs:r:50")))
    assert "Umkreis von 50 km" in wider.text
    assert "Fachwirt/in für Personalmanagement" in card_titles(wider)  # Uelzen, 49 km
    assert "kurs:r:25" in [o.id for o in wider.options]


async def test_with_the_api_unreachable_the_dialog_ends_with_the_offers_and_a_one_line_note(
    engine: sa.Engine, kb: KnowledgeBase
) -> None:
    service = make_service(engine, kb, f"http://127.0.0.1:{closed_port()}")
    await service.handle(turn("anna", command="start"))
    replies = await service.handle(
        turn("anna", text="Ich bin Kaufmann aus Winsen und will den Fachwirt machen")
    )
    assert any(r.text.startswith("Das passt zu Ihnen") for r in replies)
    assert any(o.id.startswith("offer:") for r in replies for o in r.options)  # the curated offer cards
    note = replies[-1]
    assert note.text.startswith("Kurssuche gerade nicht erreichbar") and "\n" not in note.text
    assert not note.options and not any("Passende Kurse" in r.text for r in replies)
    page = next(r for r in replies if r.text.startswith("Das passt zu Ihnen"))
    assert "nav:start" in [o.id for o in page.options]  # the dialog carries on as always


async def test_an_api_error_answers_a_filter_tap_with_the_note_and_keeps_the_state(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, stub.base_url)
    await service.handle(turn("anna", command="kurse", args="Pflegefachkraft"))
    stub.mode = "500"
    replies = await service.handle(turn("anna", option_id="kurs:r:50"))
    assert [r.text.split(" –")[0] for r in replies] == ["Kurssuche gerade nicht erreichbar"]
    stub.mode = "ok"
    retried = course_reply(await service.handle(turn("anna", option_id="kurs:show")))
    assert "Umkreis von 50 km" in retried.text  # the chosen filter was kept
    engine.dispose()


async def test_job_seekers_get_the_voucher_filter_by_default_and_can_switch_it_off(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, stub.base_url)
    for step in ("sit:arbeitsuchend", "dist:harburg", "sec:gesundheit"):
        await service.handle(turn("jo", option_id=step))
    courses = course_reply(await service.handle(turn("jo", option_id="goal:umschulung")))
    assert stub.requests[-1]["bg"] == "true"
    assert "nur mit Zulassung für den Bildungsgutschein" in courses.text
    assert "um Winsen (Luhe)" in courses.text  # only the district known: its seat
    off = course_reply(await service.handle(turn("jo", option_id="kurs:g:0")))
    assert "bg" not in stub.requests[-1] and "nur mit Zulassung" not in off.text
    engine.dispose()


async def test_employers_get_the_beschaeftigtenqualifizierung_next_to_the_courses(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, stub.base_url)
    for step in ("sit:betrieb", "dist:lueneburg", "sec:gesundheit"):
        await service.handle(turn("firma", option_id=step))
    courses = course_reply(await service.handle(turn("firma", option_id="goal:qualifizieren")))
    assert "Beschäftigtenqualifizierung nach § 82 SGB III" in courses.text
    assert "Umschulung Pflegefachkraft (m/w/d)" in courses.text  # keyword "Pflege", around Lüneburg
    engine.dispose()


async def test_kurse_on_the_console_searches_directly(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    out = io.StringIO()
    await chat(
        make_service(engine, kb, stub.base_url),
        "anna",
        stdin=io.StringIO("/kurse Pflegefachkraft\n/kurse\n"),
        stdout=out,
        interactive=False,
        clock=lambda: NOW,
    )
    text = out.getvalue()
    assert "Passende Kurse in Ihrer Nähe: „Pflegefachkraft“ im Umkreis von 25 km um Lüneburg" in text
    assert "darum suche ich rund um Lüneburg" in text  # no place known yet: said so
    assert "Umschulung Pflegefachkraft (m/w/d)" in text and "Beginn 01.04.2027" in text
    assert (
        "→ 1. Umschulung Pflegefachkraft (m/w/d): https://kurse.example.org/pflegefachkraft-lueneburg" in text
    )
    assert ") Umkreis 50 km" in text  # a numbered filter option
    assert [r.get("sw") for r in stub.requests] == ["Pflegefachkraft"]  # /kurse alone: same search, cached
    engine.dispose()


async def test_kurse_on_matrix_uses_the_same_search(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, stub.base_url)
    parsed = parse_text("!raum:example.org", "!kurse Pflegefachkraft", [], NOW)
    assert (parsed.command, parsed.args) == ("kurse", "Pflegefachkraft")
    replies = await service.handle(parsed)
    body = "\n".join(str(c["body"]) for c in render_matrix([course_reply(replies)]).contents)
    assert "Umschulung Pflegefachkraft (m/w/d)" in body and "Umkreis 50 km" in body
    engine.dispose()


async def test_without_a_search_word_or_profile_kurse_explains_itself(
    sqlite_url: str, kb: KnowledgeBase
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, f"http://127.0.0.1:{closed_port()}")
    replies = await service.handle(turn("anna", command="kurse"))
    assert [r.text for r in replies] == [
        "Nennen Sie mir ein Suchwort, z. B. /kurse Pflegefachkraft – oder beantworten Sie mit /start "
        "ein paar Fragen, dann suche ich passend zu Ihrem Ziel."
    ]
    engine.dispose()


async def test_course_search_off_hides_the_courses(
    sqlite_url: str, kb: KnowledgeBase, stub: CourseApiStub
) -> None:
    engine = make_engine(sqlite_url)
    service = make_service(engine, kb, stub.base_url, courses=False)
    replies = await service.handle(
        turn("anna", text="Ich bin Kaufmann aus Winsen und will den Fachwirt machen")
    )
    assert not any(o.id.startswith("kurs:") for r in replies for o in r.options)
    off = await service.handle(turn("anna", command="kurse", args="Pflegefachkraft"))
    assert "ausgeschaltet" in off[0].text and stub.requests == []
    assert course_resolvers(load_settings(course_search="off"), engine) == {}
    assert list(course_resolvers(load_settings(course_search="on"), engine)) == [CourseRequest]
    engine.dispose()


def test_course_settings_default_to_the_documented_server_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_SEARCH")  # the suite switches the search off (conftest)
    settings = load_settings()
    assert settings.course_api_base_url == "https://rest.arbeitsagentur.de/infosysbub/wbsuche"
    assert settings.course_api_key.get_secret_value() == "infosysbub-wbsuche"
    assert (settings.course_search, settings.course_ttl) == ("on", dt.timedelta(hours=6))
    assert load_settings(course_cache_ttl="30m").course_ttl == dt.timedelta(minutes=30)
    with pytest.raises(SettingsError, match="COURSE_CACHE_TTL"):
        load_settings(course_cache_ttl="bald")


def test_every_fixture_names_the_shape_it_copies() -> None:
    for path in sorted(Path(FIXTURES).glob("*.json")):
        assert "shape" in json.loads(path.read_text(encoding="utf-8"))["_source"].lower(), path.name


async def test_the_cli_chat_wires_the_settings_to_the_search(sqlite_url: str, stub: CourseApiStub) -> None:
    """`bildungslotse chat` as operators run it: COURSE_* settings from the environment, a real process."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update(
        DATABASE_URL=sqlite_url, COURSE_SEARCH="on", COURSE_API_BASE_URL=stub.base_url, COURSE_CACHE_TTL="1h"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "chat", "--user", "demo",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(b"/kurse Pflegefachkraft\n"), 120)
    assert proc.returncode == 0, err.decode()
    # the process runs on the real clock: check the header, not dated cards (pinned-clock tests do that)
    assert "Passende Kurse in Ihrer Nähe: „Pflegefachkraft“ im Umkreis von 25 km um Lüneburg" in out.decode()
    assert stub.keys == [KEY] and stub.requests[0]["sw"] == "Pflegefachkraft"
