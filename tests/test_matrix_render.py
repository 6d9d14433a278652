"""Matrix rendering and reading: what a person sees, and how their number, word or emoji is understood."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st
from nio import ErrorResponse

from bot.matrix.inbound import (
    addressed,
    command_name,
    keycap_number,
    match_label,
    parse_reaction,
    parse_text,
    strip_reply_fallback,
)
from bot.matrix.render import KEYCAPS, render
from bot.matrix.runtime import _location_turn
from bot.matrix.sender import classify
from bot.outbound import DeliveryStatus
from handlers.catalogue import t
from handlers.turn import Attachment, Link, Option, Reply, TurnKind

ROOM = "!room:example.org"
AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # the turn's stamp, as the runtime's clock gives it
BOT = "@lotse:example.org"
SECTORS = (
    Option("sec:handwerk", "Handwerk"),
    Option("sec:it", "IT / Digitales"),
    Option("sec:logistik", "Logistik"),
)


# --- rendering --------------------------------------------------------------------------
def test_options_are_numbered_across_all_replies_of_a_turn() -> None:
    out = render(
        [
            Reply("Angebot A", options=(Option("offer:a", "Details"), Option("contact:a", "Kontakt"))),
            Reply("Wie weiter?", options=(Option("nav:more", "Mehr Angebote"),), question=True),
        ]
    )
    assert len(out.contents) == 1
    body = out.contents[0]["body"]
    assert "1) Details\n2) Kontakt" in body and "3) Mehr Angebote" in body
    assert [o.id for o in out.options] == ["offer:a", "contact:a", "nav:more"]
    assert '<ol start="1"><li>Details</li><li>Kontakt</li></ol>' in out.contents[0]["formatted_body"]
    assert '<ol start="3">' in out.contents[0]["formatted_body"]
    assert t("de", "matrix.options_hint") in body


def test_html_is_escaped_and_only_web_links_become_anchors() -> None:
    reply = Reply(
        'Kurs <script>alert("x")</script> & mehr: https://example.org/kurs?a=1&b=2.',
        options=(Option("x:1", "<b>fett</b>"),),
        links=(Link("Böse", "javascript:alert(1)"), Link("Anmeldung", "https://example.org/anmelden")),
    )
    content = render([reply]).contents[0]
    html = content["formatted_body"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<li>&lt;b&gt;fett&lt;/b&gt;</li>" in html
    assert '<a href="https://example.org/kurs?a=1&amp;b=2">' in html  # trailing dot stays text
    assert "javascript:" not in html
    assert '<a href="https://example.org/anmelden">Anmeldung</a>' in html
    assert "→ Anmeldung: https://example.org/anmelden" in content["body"]
    assert content["m.mentions"] == {}


def test_no_hint_without_a_question_and_attachments_travel_separately() -> None:
    ics = Attachment("termin.ics", "text/calendar", b"BEGIN:VCALENDAR")
    out = render([Reply("Ihr Termin", attachment=ics)])
    assert out.attachments == (ics,)
    assert t("de", "matrix.options_hint") not in out.contents[0]["body"]
    assert out.options == ()


def test_long_turns_are_split_without_losing_text() -> None:
    replies = [
        Reply(f"Angebot {i}: " + "Text " * 40, options=(Option(f"offer:{i}", "Details"),)) for i in range(12)
    ]
    replies.append(Reply("Ende " + "x" * 900))
    out = render(replies, limit=500)
    assert len(out.contents) > 3
    assert all(len(c["body"]) <= 500 for c in out.contents)
    joined = "".join(c["body"].replace("\n", "") for c in out.contents)
    for i in range(12):
        assert f"Angebot {i}:" in joined
    assert "x" * 900 in joined
    assert "12) Details" in joined


@given(
    st.lists(
        st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=30), min_size=1, max_size=12
    )
)
def test_every_number_shown_picks_exactly_its_option(labels: list[str]) -> None:
    options = tuple(Option(f"o:{i}", label) for i, label in enumerate(labels))
    out = render([Reply("Bitte wählen", options=options, question=True)])
    shown = re.findall(r"^(\d+)\) ", out.contents[0]["body"], flags=re.MULTILINE)
    assert [int(n) for n in shown] == list(range(1, len(options) + 1))
    for n in shown:
        turn = parse_text(ROOM, n, out.options, AT)
        assert turn.kind is TurnKind.OPTION and turn.option_id == options[int(n) - 1].id
        reaction = (
            parse_reaction(ROOM, KEYCAPS[int(n) - 1], "$ev", out.options, ["$ev"], AT)
            if int(n) <= 10
            else None
        )
        assert reaction is None or reaction.option_id == options[int(n) - 1].id


# --- reading ----------------------------------------------------------------------------
def test_numbers_pick_options_but_postcodes_stay_text() -> None:
    assert parse_text(ROOM, " 3. ", SECTORS, AT).option_id == "sec:logistik"
    assert parse_text(ROOM, "Nr. 2", SECTORS, AT).option_id == "sec:it"
    assert parse_text(ROOM, "4", SECTORS, AT).kind is TurnKind.TEXT  # out of range: the dialog explains
    postcode = parse_text(ROOM, "29525", SECTORS, AT)
    assert postcode.kind is TurnKind.TEXT and postcode.text == "29525"
    assert parse_text(ROOM, "1", (), AT).kind is TurnKind.TEXT  # nothing shown yet


def test_labels_typed_exactly_or_with_a_typo() -> None:
    assert parse_text(ROOM, "handwerk", SECTORS, AT).option_id == "sec:handwerk"
    assert parse_text(ROOM, "Handwek", SECTORS, AT).option_id == "sec:handwerk"
    assert parse_text(ROOM, "it/digitales", SECTORS, AT).option_id == "sec:it"
    free = parse_text(ROOM, "Ich bin Dachdecker in Winsen", SECTORS, AT)
    assert free.kind is TurnKind.TEXT
    two_cards = (Option("offer:a", "Details"), Option("offer:b", "Details"))
    assert match_label("Details", two_cards) is None  # ambiguous: the number decides


def test_bang_commands_with_or_without_umlauts() -> None:
    turn = parse_text(ROOM, "!Löschen jetzt", SECTORS, AT)
    assert (turn.kind, turn.command, turn.args) == (TurnKind.COMMAND, "loeschen", "jetzt")
    assert parse_text(ROOM, "!termine", (), AT).command == "termine"
    assert command_name("Zurück") == "zurueck"
    assert parse_text(ROOM, "! nicht", (), AT).kind is TurnKind.TEXT


def test_quoted_reply_fallback_is_dropped() -> None:
    body = "> <@anna:example.org> Was beschreibt Ihre Lage?\n> 1) Betrieb\n\n2"
    assert strip_reply_fallback(body) == "2"
    assert strip_reply_fallback("kein Zitat") == "kein Zitat"


def test_number_reactions_only_on_the_message_with_the_options() -> None:
    assert keycap_number("3️⃣") == 3 and keycap_number("3\u20e3") == 3 and keycap_number("🔟") == 10
    assert keycap_number("👍") is None
    turn = parse_reaction(ROOM, "2️⃣", "$question", SECTORS, ["$question"], AT)
    assert turn is not None and turn.option_id == "sec:it"
    assert parse_reaction(ROOM, "2️⃣", "$older", SECTORS, ["$question"], AT) is None
    assert parse_reaction(ROOM, "9️⃣", "$question", SECTORS, ["$question"], AT) is None


def test_group_messages_count_only_when_the_bot_is_addressed() -> None:
    assert addressed({}, "Lotse: 3", BOT, "Lotse").text == "3"
    assert (
        addressed({}, "@lotse, ich suche eine Ausbildung", BOT, "Bildungslotse").text
        == "ich suche eine Ausbildung"
    )
    assert addressed({}, "!hilfe", BOT, "Lotse").yes
    assert addressed({"m.mentions": {"user_ids": [BOT]}}, "hallo du", BOT, "Lotse").yes
    pill = {"formatted_body": f'<a href="https://matrix.to/#/{BOT}">Lotse</a> hallo'}
    assert addressed(pill, "hallo", BOT, None).yes
    assert not addressed({}, "Lotsenboot kommt morgen", BOT, "Lotse").yes
    assert not addressed({}, "Wer kommt morgen?", BOT, "Lotse").yes
    assert addressed({}, "Lotse", BOT, "Lotse").text == ""


def test_shared_location_becomes_a_location_turn() -> None:
    turn = _location_turn(ROOM, {"geo_uri": "geo:53.2509,10.4142;u=35"}, at=AT)
    assert turn is not None and turn.kind is TurnKind.LOCATION and (turn.lat, turn.lon) == (53.2509, 10.4142)
    assert _location_turn(ROOM, {"geo_uri": "geo:abc"}, at=turn.at) is None


def test_homeserver_errors_become_delivery_results() -> None:
    limited = classify(ErrorResponse("Too Many Requests", "M_LIMIT_EXCEEDED", 2500))
    assert limited.status is DeliveryStatus.RETRY and limited.retry_after == 2.5
    assert classify(ErrorResponse("not in room", "M_FORBIDDEN")).status is DeliveryStatus.BLOCKED
    assert classify(ErrorResponse("too big", "M_TOO_LARGE")).status is DeliveryStatus.FAILED
