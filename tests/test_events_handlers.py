"""What a user sees of events: /termine for their profile, calendar files, /abo, /stop — through the
conversation service with a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Unpack

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.app import feature_settings
from bot.conversation import ConversationService
from bot.settings import Settings
from db.engine import session_scope
from db.event_models import Subscription
from db.events import upsert_events
from handlers import events as event_features
from handlers.features import FeatureRegistry
from handlers.turn import Option, Reply, TurnKind
from knowledge.base import KnowledgeBase
from knowledge.events import EventIn, parse_events_yaml, parse_ics
from tests.turns import TurnFields, make_turn

NOW = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)

EVENTS = """
events:
- id: uelzen_handwerk
  title: Meistertag Uelzen
  start: "2027-03-10 17:00"
  end: "2027-03-10 19:00"
  place: Uelzen, Rathaus
  districts: [uelzen]
  sectors: [handwerk]
  audiences: [beschaeftigt]
  topics: [weiterbildung]
  organiser: hwk_bls
  registration_url: https://example.org/meistertag
- id: harburg_betriebe
  title: Frühstück für Betriebe in Winsen
  start: "2027-03-11 08:30"
  place: Winsen (Luhe)
  districts: [harburg]
  audiences: [betrieb]
  topics: [betriebe]
- id: online_alle
  title: Online-Sprechstunde Förderung
  start: "2027-03-12 18:00"
  online_url: https://example.org/online
  topics: [foerderung]
- id: vorbei
  title: Vergangener Termin
  start: "2027-02-01 18:00"
  place: Uelzen
- id: abgesagt
  title: Abgesagter Termin
  start: "2027-03-20 18:00"
  place: Uelzen
  status: cancelled
"""


@dataclass
class User:
    service: ConversationService
    user: str = "4711"
    replies: list[Reply] = field(default_factory=list)

    def _turn(self, kind: TurnKind, **kw: Unpack[TurnFields]) -> list[Reply]:
        turn = make_turn("telegram", self.user, kind, at=NOW, **kw)
        self.replies = self.service.handle_sync(turn)
        return self.replies

    def command(self, name: str) -> list[Reply]:
        return self._turn(TurnKind.COMMAND, command=name)

    def tap(self, option_id: str) -> list[Reply]:
        assert option_id in {o.id for o in self.options}, (option_id, self.options)
        return self._turn(TurnKind.OPTION, option_id=option_id)

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def options(self) -> list[Option]:
        return [o for r in self.replies for o in r.options]


@pytest.fixture
def service(engine: sa.Engine, kb: KnowledgeBase) -> Iterator[ConversationService]:
    with session_scope(engine) as session:
        upsert_events(session, parse_events_yaml(EVENTS.encode(), "t.yaml"), NOW - dt.timedelta(days=30))
    registry = FeatureRegistry()
    event_features.register(registry)
    yield ConversationService(engine, kb, feature_settings(Settings(reminder_lead_times="7d,1d")), registry)


def advise(user: User, situation: str, district: str, sector: str) -> None:
    user.command("start")
    user.tap(f"sit:{situation}")
    user.tap(f"dist:{district}")
    user.tap(f"sec:{sector}")
    goal = next(o.id for o in user.options if o.id.startswith("goal:"))
    user.tap(goal)


def test_termine_shows_upcoming_events_that_fit_the_profile(service: ConversationService) -> None:
    user = User(service)
    advise(user, "beschaeftigt", "uelzen", "handwerk")
    user.command("termine")
    text = user.text
    assert "Meistertag Uelzen" in text and "Online-Sprechstunde" in text
    assert "Winsen" not in text  # for employers in Harburg
    assert "Vergangener" not in text and "Abgesagter" not in text
    assert "Mi., 10.03.2027, 17:00–19:00 Uhr" in text and "Ort: Uelzen, Rathaus" in text
    assert "Handwerkskammer Braunschweig-Lüneburg-Stade" in text  # organiser by name
    card = next(r for r in user.replies if "Meistertag" in r.text)
    assert [link.url for link in card.links] == ["https://example.org/meistertag"]
    assert user.options[-1].id == "abo:start"


def test_calendar_button_sends_an_ics_file_of_that_event(service: ConversationService) -> None:
    user = User(service)
    user.command("termine")
    card = next(r for r in user.replies if "Meistertag" in r.text)
    (ics_option,) = [o for o in card.options if o.id.startswith("ev:ics:")]
    (reply,) = user.tap(ics_option.id)
    assert reply.attachment is not None and reply.attachment.mime_type == "text/calendar"
    (event,) = parse_ics(reply.attachment.data, reply.attachment.filename)
    assert event.id == "uelzen_handwerk" and event.title == "Meistertag Uelzen"
    user._turn(TurnKind.OPTION, option_id="ev:ics:99999")
    assert "gibt es nicht mehr" in user.text


def test_without_a_profile_termine_lists_everything_upcoming(service: ConversationService) -> None:
    user = User(service, user="1")
    user.command("termine")
    assert "Kommende Termine im Netzwerk (1 bis 3 von 3)" in user.text
    assert "Winsen" in user.text and "Meistertag" in user.text


def test_more_than_a_page_of_events_is_paged(service: ConversationService, engine: sa.Engine) -> None:
    many = [
        EventIn.model_validate(
            {
                "id": f"tag{i}",
                "title": f"Beratungstag {i}",
                "start": f"2027-04-{i + 1:02d} 10:00",
                "place": "Uelzen",
            }
        )
        for i in range(7)
    ]
    with session_scope(engine) as session:
        upsert_events(session, many, NOW)
    user = User(service, user="2")
    user.command("termine")
    assert "(1 bis 5 von 10)" in user.text
    user.tap("ev:page:1")
    assert "(6 bis 10 von 10)" in user.text and "Beratungstag 6" in user.text
    assert "ev:page:2" not in {o.id for o in user.options}


def test_subscribe_in_one_tap_from_the_results(service: ConversationService, engine: sa.Engine) -> None:
    user = User(service)
    advise(user, "beschaeftigt", "uelzen", "handwerk")
    assert "abo:start" in {o.id for o in user.options}
    subscribe = next(o for o in user.options if o.id == "abo:start")
    assert subscribe.label == "Über passende Termine informieren"
    user.tap("abo:start")
    assert "Ihr Termin-Abo ist aktiv" in user.text
    assert "Beschäftigt" in user.text and "Landkreis Uelzen" in user.text and "Handwerk" in user.text
    assert "7 Tage und 1 Tag vor Beginn" in user.text and "nicht zwischen 21:00 und 08:00 Uhr" in user.text
    assert "Demnächst passend für Sie: 2 Termine" in user.text
    with Session(engine) as session:
        sub = session.exec(select(Subscription)).one()
    assert (sub.active, sub.situation, sub.district, sub.sector, sub.topics) == (
        True,
        "beschaeftigt",
        "uelzen",
        "handwerk",
        [],
    )
    assert sub.subscribed_at == NOW


def test_abo_again_shows_and_edits_topics_and_stop_ends_it(
    service: ConversationService, engine: sa.Engine
) -> None:
    user = User(service)
    advise(user, "beschaeftigt", "uelzen", "handwerk")
    user.tap("abo:start")
    user.command("abo")
    assert "Themen: alle Themen" in user.text
    user.tap("abo:t:weiterbildung")
    assert "Themen: Weiterbildung und Aufstieg" in user.text
    assert any(o.label.startswith("✓") and o.id == "abo:t:weiterbildung" for o in user.options)
    user.tap("abo:t:foerderung")
    user.command("termine")
    assert "Meistertag" in user.text  # /termine follows the profile, topics only filter reminders
    user.command("abo")
    user.tap("abo:t:weiterbildung")
    with Session(engine) as session:
        assert session.exec(select(Subscription)).one().topics == ["foerderung"]
    user.tap("abo:stop")
    assert "keine Terminerinnerungen mehr" in user.text
    user.command("stop")
    assert "kein Termin-Abo" in user.text
    user.command("abo")
    assert "Möchten Sie das?" in user.text
    assert {o.id for o in user.options} == {"abo:start", "abo:no"}
    with Session(engine) as session:
        sub = session.exec(select(Subscription)).one()
    assert not sub.active and sub.end_reason == "stop"


def test_a_changed_profile_can_be_taken_over(service: ConversationService, engine: sa.Engine) -> None:
    user = User(service)
    advise(user, "beschaeftigt", "uelzen", "handwerk")
    user.tap("abo:start")
    advise(user, "betrieb", "harburg", "handel")
    user.command("abo")
    user.tap("abo:sync")
    assert "aktuelles Profil" in user.text and "Landkreis Harburg" in user.text
    with Session(engine) as session:
        sub = session.exec(select(Subscription)).one()
    assert (sub.situation, sub.district, sub.sector) == ("betrieb", "harburg", "handel")


def test_declining_the_offer_stores_nothing(service: ConversationService, engine: sa.Engine) -> None:
    user = User(service)
    user.command("abo")
    assert "Tipp" in user.text  # no profile yet: how to get better matches
    user.tap("abo:no")
    assert "erinnere ich Sie nicht" in user.text
    with Session(engine) as session:
        assert session.exec(select(Subscription)).first() is None


EXAMPLE = """
events:
- id: beispiel_online
  title: Beispiel-Sprechstunde
  start: "2027-03-09 18:00"
  online_url: https://example.org/beispiel
  example: true
"""


def test_examples_are_flagged_and_never_shown_next_to_real_events(
    engine: sa.Engine, kb: KnowledgeBase
) -> None:
    registry = FeatureRegistry()
    event_features.register(registry)
    service = ConversationService(engine, kb, feature_settings(Settings()), registry)
    with session_scope(engine) as session:
        upsert_events(session, parse_events_yaml(EXAMPLE.encode(), "ex.yaml"), NOW - dt.timedelta(days=30))
    demo = User(service, user="demo")
    demo.command("termine")
    assert "Beispiel-Sprechstunde" in demo.text and "Beispieltermin, kein echter Termin" in demo.text
    with session_scope(engine) as session:  # a partner imports real dates: examples disappear
        upsert_events(session, parse_events_yaml(EVENTS.encode(), "t.yaml"), NOW - dt.timedelta(days=30))
    demo.command("termine")
    assert "Meistertag Uelzen" in demo.text
    assert "Beispiel" not in demo.text


def test_english_users_see_english_dates_and_times(service: ConversationService) -> None:
    user = User(service, user="4712")
    user._turn(TurnKind.COMMAND, command="termine", language="en")  # the client's language: English
    text = user.text
    assert "Wed, 10 Mar 2027, 17:00–19:00" in text
    assert "10.03.2027" not in text and "Mi." not in text
    user._turn(TurnKind.OPTION, option_id="abo:start", language="en")  # Telegram sends it with every update
    assert "never between 21:00 and 08:00" in user.text
