"""Event files: validation with clear errors, idempotent import by uid, change detection, the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from db.engine import make_engine, session_scope
from db.event_models import Event
from db.events import cancel_event, upsert_events
from knowledge.base import KnowledgeBase
from knowledge.events import (
    EventIn,
    bundled_examples_path,
    load_events_file,
    parse_events_yaml,
    parse_ics,
)
from knowledge.loader import KnowledgeError

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC)

EVENT_YAML = """
events:
- id: infoabend_uelzen
  title: Infoabend Ausbildung
  start: "2027-03-10 17:00"
  end: "2027-03-10 19:00"
  place: Uelzen, Rathaus
  districts: [uelzen]
  audiences: [schule]
  topics: [ausbildung]
  organiser: aa_lueneburg_uelzen
  registration_url: https://example.org/anmeldung
"""


def events_from(text: str) -> list[EventIn]:
    return parse_events_yaml(text.encode(), "partner.yaml")


def test_bundled_examples_are_valid_and_clearly_marked_as_examples(kb: KnowledgeBase) -> None:
    events = load_events_file(bundled_examples_path())
    assert len(events) >= 3
    for event in events:
        assert event.example, event.id
        assert "Beispieltermin" in event.title or "Beispieltermin" in event.description, event.id
        assert event.organiser in kb.institutions, event.id  # real network partners, flagged as example
        assert event.start.year >= 2027
        for url in (event.registration_url, event.online_url):
            assert url is None or url.host == "example.org", event.id


def test_times_without_zone_are_berlin_time_in_winter_and_summer() -> None:
    winter, summer = events_from(
        EVENT_YAML
        + """
- id: sommer
  title: Sommertermin
  start: "2027-07-01 09:00"
  online_url: https://example.org/online
"""
    )
    assert winter.start == dt.datetime(2027, 3, 10, 16, 0, tzinfo=dt.UTC)
    assert summer.start == dt.datetime(2027, 7, 1, 7, 0, tzinfo=dt.UTC)
    assert summer.districts == "all" and summer.place is None


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("  districts: [uelzen, berlin]", "Eintrag 'infoabend_uelzen', Feld 'districts'"),
        ('  end: "2027-03-10 16:00"', "Eintrag 'infoabend_uelzen'"),
        ("  colour: blue", "Feld 'colour'"),
        ('  start: "irgendwann"', "Feld 'start'"),
        ("  registration_url: not a url", "Feld 'registration_url'"),
    ],
)
def test_malformed_entries_name_file_entry_and_field(change: str, where: str) -> None:
    lines = EVENT_YAML.splitlines()
    key = change.split(":")[0]
    lines = [line for line in lines if not line.startswith(key + ":")] + [change]
    with pytest.raises(KnowledgeError) as err:
        events_from("\n".join(lines))
    assert str(err.value).startswith("partner.yaml, ")
    assert where in str(err.value)


def test_file_level_errors_are_one_clear_line() -> None:
    cases = {
        "events: [": "kein gültiges YAML",
        "termine: []": "Liste 'events'",
        "events: []": "Liste 'events'",
        EVENT_YAML + EVENT_YAML.split("events:")[1]: "id kommt doppelt vor",
        EVENT_YAML.replace("  place: Uelzen, Rathaus\n", ""): "place or an online_url",
    }
    for text, message in cases.items():
        with pytest.raises(KnowledgeError, match=message):
            events_from(text)


def test_ics_errors_name_the_event_and_property() -> None:
    def ics(body: str) -> bytes:
        return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n".encode()

    vevent = (
        "BEGIN:VEVENT\r\nUID:abc@partner\r\nSUMMARY:Infotag\r\nDTSTART:20270310T170000\r\nLOCATION:Uelzen\r\n"
    )
    (ok,) = parse_ics(ics(vevent + "END:VEVENT\r\n"), "p.ics")
    assert ok.id == "abc@partner" and ok.start == dt.datetime(2027, 3, 10, 16, 0, tzinfo=dt.UTC)
    cases = {
        b"not a calendar": "keine gültige iCalendar-Datei",
        ics(""): "enthält keine Termine",
        ics(vevent.replace("UID:abc@partner\r\n", "") + "END:VEVENT\r\n"): "Feld 'UID'",
        ics(
            vevent.replace("20270310T170000", "2027xx") + "END:VEVENT\r\n"
        ): "Eintrag 'abc@partner', Feld 'DTSTART'",
        ics(vevent + "X-BILDUNGSLOTSE-DISTRICTS:mars\r\nEND:VEVENT\r\n"): "Feld 'X-BILDUNGSLOTSE-DISTRICTS'",
    }
    for data, message in cases.items():
        with pytest.raises(KnowledgeError, match=message):
            parse_ics(data, "p.ics")


def _rows(engine: sa.Engine) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event)).all())


def _import(engine: sa.Engine, text: str, now: dt.datetime = NOW) -> tuple[int, int, int, int]:
    with session_scope(engine) as session:
        r = upsert_events(session, events_from(text), now)
    return r.added, r.updated, r.unchanged, r.notices


def test_import_is_idempotent_and_changes_update_in_place(engine: sa.Engine) -> None:
    assert _import(engine, EVENT_YAML) == (1, 0, 0, 0)
    assert _import(engine, EVENT_YAML) == (0, 0, 1, 0)
    # a new description is an update nobody needs to be told about
    assert _import(engine, EVENT_YAML + "  description: Mit Betrieben aus der Region\n") == (0, 1, 0, 0)
    (event,) = _rows(engine)
    assert (event.status, event.notice_seq) == ("planned", 0)
    # a new time is a change: status and notice sequence say so
    moved = EVENT_YAML.replace("17:00", "18:00")
    assert _import(engine, moved, NOW + dt.timedelta(hours=1)) == (0, 1, 0, 1)
    (event,) = _rows(engine)
    assert (event.status, event.notice_seq) == ("changed", 1)
    assert event.starts_at == dt.datetime(2027, 3, 10, 17, 0, tzinfo=dt.UTC)
    assert event.changed_at == NOW + dt.timedelta(hours=1)
    # a second change (new place) is a second notice
    assert _import(engine, moved.replace("Rathaus", "Stadthalle")) == (0, 1, 0, 1)
    # a cancellation too
    assert _import(engine, moved.replace("Rathaus", "Stadthalle") + "  status: cancelled\n") == (0, 1, 0, 1)
    (event,) = _rows(engine)
    assert (event.status, event.notice_seq, event.place) == ("cancelled", 3, "Uelzen, Stadthalle")


def test_cancel_by_command_counts_once(engine: sa.Engine) -> None:
    _import(engine, EVENT_YAML)
    with session_scope(engine) as session:
        event = session.exec(select(Event)).one()
        assert cancel_event(session, event, NOW)
        assert not cancel_event(session, event, NOW)
    (event,) = _rows(engine)
    assert (event.status, event.notice_seq) == ("cancelled", 1)


def test_a_bad_entry_anywhere_imports_nothing(engine: sa.Engine) -> None:
    text = EVENT_YAML + "- id: kaputt\n  title: Ohne Beginn\n  place: Lüneburg\n"
    with pytest.raises(KnowledgeError, match="Eintrag 'kaputt', Feld 'start'"):
        _import(engine, text)
    assert _rows(engine) == []


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "events", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_events_cli_import_list_cancel(sqlite_url: str, tmp_path: Path) -> None:
    partner = tmp_path / "partner.yaml"
    partner.write_text(
        EVENT_YAML.replace("2027-03-10", "2020-03-10")  # one past event …
        + EVENT_YAML.split("events:")[1].replace("infoabend_uelzen", "zukunft").replace("2027", "2099"),
        encoding="utf-8",
    )
    first = cli("import", str(partner), database_url=sqlite_url)
    assert first.returncode == 0, first.stderr
    assert "2 neu" in first.stdout
    again = cli("import", str(partner), database_url=sqlite_url)
    assert "0 neu, 0 geändert, 2 unverändert" in again.stdout

    broken = tmp_path / "broken.yaml"
    broken.write_text(EVENT_YAML.replace("uelzen]", "atlantis]"), encoding="utf-8")
    bad = cli("import", str(broken), database_url=sqlite_url)
    assert bad.returncode == 1
    assert "broken.yaml" in bad.stderr and "districts" in bad.stderr and "nichts importiert" in bad.stderr
    assert "Traceback" not in bad.stderr

    listing = cli("list", "--upcoming", database_url=sqlite_url)
    assert "zukunft" in listing.stdout and "infoabend_uelzen" not in listing.stdout
    assert "infoabend_uelzen" in cli("list", database_url=sqlite_url).stdout

    cancelled = cli("cancel", "zukunft", database_url=sqlite_url)
    assert cancelled.returncode == 0 and "Abgesagt" in cancelled.stdout
    assert "abgesagt" in cli("list", "--upcoming", database_url=sqlite_url).stdout
    missing = cli("cancel", "gibtsnicht", database_url=sqlite_url)
    assert missing.returncode == 1 and "nicht gefunden" in missing.stderr

    without_file = cli("import", database_url=sqlite_url)  # never the examples into production by accident
    assert without_file.returncode == 1 and "--examples" in without_file.stderr
    engine = make_engine(sqlite_url)
    assert len(_rows(engine)) == 2
    engine.dispose()
    examples = cli("import", "--examples", database_url=sqlite_url)
    assert examples.returncode == 0 and "neu" in examples.stdout
    assert "Beispiel" in cli("list", database_url=sqlite_url).stdout
    engine = make_engine(sqlite_url)
    assert len(_rows(engine)) == 2 + len(load_events_file(bundled_examples_path()))
    engine.dispose()
