"""Calendar files: what /termine hands out reads back as the same event; foreign calendars import."""

from __future__ import annotations

import datetime as dt

import icalendar
import sqlalchemy as sa
from sqlmodel import Session, col, select

from db.engine import session_scope
from db.event_models import Event
from db.events import cancel_event, upsert_events
from handlers.ics import ics_attachment
from knowledge.events import bundled_examples_path, load_events_file, parse_ics

NOW = dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC)


def test_exported_calendar_files_import_as_the_same_events(engine: sa.Engine) -> None:
    examples = load_events_file(bundled_examples_path())
    with session_scope(engine) as session:
        upsert_events(session, examples, NOW)
    with Session(engine) as session:
        rows = session.exec(select(Event).order_by(col(Event.id))).all()
        files = [ics_attachment(row, NOW) for row in rows]
    for file, original in zip(files, examples, strict=True):
        assert file.mime_type == "text/calendar" and file.filename.endswith(".ics")
        (back,) = parse_ics(file.data, file.filename)
        assert back == original
    # importing the exported files changes nothing
    with session_scope(engine) as session:
        report = upsert_events(session, [parse_ics(f.data, f.filename)[0] for f in files], NOW, "ics")
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(examples))


def test_calendar_apps_see_time_place_and_cancellation(engine: sa.Engine) -> None:
    (example,) = [e for e in load_events_file(bundled_examples_path()) if e.place and not e.online_url][:1]
    with session_scope(engine) as session:
        upsert_events(session, [example], NOW)
        row = session.exec(select(Event)).one()
        cancel_event(session, row, NOW)
        data = ics_attachment(row, NOW).data
    vevent = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert vevent.decoded("DTSTART") == example.start
    assert str(vevent["LOCATION"]) == example.place
    assert str(vevent["STATUS"]) == "CANCELLED" and vevent.decoded("SEQUENCE") == 1
    assert str(vevent["UID"]) == example.id


def test_a_calendar_from_elsewhere_with_time_zone_and_duration() -> None:
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//Kalender//DE\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
        "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
        "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
        "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:20270612-messe@partner.example\r\nDTSTAMP:20270101T000000Z\r\n"
        "SUMMARY:Ausbildungsmesse\r\nDTSTART;TZID=Europe/Berlin:20270612T100000\r\nDURATION:PT6H\r\n"
        "LOCATION:Lüneburg\\, Halle 1\r\nURL:https://partner.example/messe\r\n"
        "ORGANIZER;CN=IHK Lüneburg-Wolfsburg:mailto:info@partner.example\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    (event,) = parse_ics(data, "messe.ics")
    assert event.start == dt.datetime(2027, 6, 12, 8, 0, tzinfo=dt.UTC)  # 10:00 summer time
    assert event.end == event.start + dt.timedelta(hours=6)
    assert event.place == "Lüneburg, Halle 1"
    assert str(event.registration_url) == "https://partner.example/messe"
    assert event.organiser == "IHK Lüneburg-Wolfsburg"
    assert event.districts == "all" and event.audiences == "all" and not event.example
