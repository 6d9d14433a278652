"""Hostile or careless .ics files: every problem is one named error (file, event, property), nothing
is imported, and the CLI answers with one line and a failing exit code instead of a traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from db.engine import make_engine
from db.event_models import Event
from knowledge.events import parse_ics
from knowledge.loader import KnowledgeError
from tests.test_events_import import cli

GOOD = (
    "BEGIN:VEVENT\r\nUID:gut@partner\r\nSUMMARY:Infotag\r\nDTSTART:20270310T170000\r\n"
    "LOCATION:Uelzen\r\nEND:VEVENT\r\n"
)


def calendar(*vevents: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//p//p//DE\r\n" + "".join(vevents) + "END:VCALENDAR\r\n"
    ).encode()


def vevent(*lines: str, uid: str = "kaputt@partner") -> str:
    """An event with `lines` plus a UID, SUMMARY and DTSTART where `lines` have none (LOCATION always)."""
    given = {line.split(":", 1)[0].split(";", 1)[0] for line in lines}
    defaults = {"UID": f"UID:{uid}", "SUMMARY": "SUMMARY:Infotag", "DTSTART": "DTSTART:20270310T170000"}
    props = [v for k, v in defaults.items() if k not in given] + list(lines) + ["LOCATION:Lüneburg"]
    return "BEGIN:VEVENT\r\n" + "".join(f"{p}\r\n" for p in props) + "END:VEVENT\r\n"


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        (["DTSTART:00010101T000000"], "DTSTART", "Zeitpunkt"),
        (["DTSTART:99991231T235959"], "DTSTART", "Zeitpunkt"),
        (["DTEND:00010101T000000"], "DTEND", "Zeitpunkt"),
        (["DURATION:P99999999D"], "DURATION", "Dauer"),
        (["DURATION:-P99999999D"], "DURATION", "Dauer"),
        (["DTEND:20300101T000000"], "DTEND", "länger als"),
        (["SUMMARY:T", "SUMMARY:U"], "SUMMARY", "mehrfach"),
        (["DTSTART:20270310T170000", "DTSTART:20270311T170000"], "DTSTART", "mehrfach"),
        (["LOCATION:Uelzen"], "LOCATION", "mehrfach"),
    ],
)
def test_out_of_range_times_and_repeated_properties_are_named_errors(
    lines: list[str], field: str, message: str
) -> None:
    with pytest.raises(KnowledgeError, match=message) as caught:
        parse_ics(calendar(GOOD, vevent(*lines)), "partner.ics")
    err = caught.value
    assert (err.file, err.entry, err.field) == ("partner.ics", "kaputt@partner", field)
    assert "vText" not in str(err)


def test_a_repeated_uid_names_the_event_by_its_position() -> None:
    with pytest.raises(KnowledgeError, match="mehrfach") as caught:
        parse_ics(calendar(GOOD, vevent("UID:eins@partner", "UID:zwei@partner")), "partner.ics")
    assert (caught.value.entry, caught.value.field) == ("Nr. 2", "UID")


def test_the_cli_imports_nothing_and_says_why_in_one_line(sqlite_url: str, tmp_path: Path) -> None:
    for lines in (["DTSTART:00010101T000000"], ["DURATION:P99999999D"], ["SUMMARY:T", "SUMMARY:U"]):
        path = tmp_path / "x.ics"
        path.write_bytes(calendar(GOOD, vevent(*lines)))
        result = cli("import", str(path), database_url=sqlite_url)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "x.ics" in line and "kaputt@partner" in line and "nichts importiert" in line
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        assert session.exec(select(Event)).all() == []  # not even the good first event
    engine.dispose()


_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "SUMMARY", "UID", "LOCATION", "URL", "STATUS", "ORGANIZER")
_VALUES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
    st.from_regex(r"[0-9]{1,8}T?[0-9]{0,6}Z?", fullmatch=True),
    st.from_regex(r"-?P[0-9]{1,10}[WDTHMS]?[0-9]{0,6}[HMS]?", fullmatch=True),
    st.sampled_from(["00010101T000000", "99991231T235959Z", "20270230", "20270310T250000", "P99999999D"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PROPERTIES), _VALUES), max_size=5))
def test_random_property_values_give_events_or_a_named_error(props: list[tuple[str, str]]) -> None:
    lines = [f"{name}:{value}".replace("\r", " ").replace("\n", " ") for name, value in props]
    data = calendar("BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VEVENT\r\n")
    try:
        events = parse_ics(data, "fuzz.ics")
    except KnowledgeError as err:
        assert err.file == "fuzz.ics" and str(err).startswith("fuzz.ics")
        return
    for event in events:
        assert dt.datetime(1970, 1, 1, tzinfo=dt.UTC) <= event.start < dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
        assert "vText" not in event.title
