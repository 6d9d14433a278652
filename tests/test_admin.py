"""Partner administration: admin-only commands, anonymous statistics, audit trail."""

from __future__ import annotations

import json
from typing import Unpack

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.audit import AuditEntry
from db.engine import make_engine
from handlers.turn import Reply, TurnKind
from knowledge.base import KnowledgeBase
from tests.test_cli import cli
from tests.turns import TurnContent, TurnFields, make_turn

ADMIN = "telegram:4711"


def _service(url: str, kb: KnowledgeBase) -> ConversationService:
    settings = load_settings(_env_file=None, admin_ids=f"{ADMIN},matrix:@ann:example.org")
    return ConversationService(make_engine(url), kb, feature_settings(settings), build_features())


def _cmd(service: ConversationService, user: str, name: str) -> list[str]:
    return [r.text for r in service.handle_sync(make_turn("telegram", user, TurnKind.COMMAND, command=name))]


def _populate(service: ConversationService) -> None:
    answers = (
        ("1", "Pflegekraft aus Uelzen, ich will mich weiterbilden"),
        ("2", "Wir sind ein Betrieb in Winsen"),
    )
    for uid, text in answers:
        service.handle_sync(make_turn("telegram", uid, TurnKind.COMMAND, command="start"))
        service.handle_sync(make_turn("telegram", uid, TurnKind.TEXT, text=text))


def test_non_admins_get_the_unknown_command_answer(sqlite_url: str, kb: KnowledgeBase) -> None:
    service = _service(sqlite_url, kb)
    _cmd(service, "1", "start")
    assert _cmd(service, "1", "statistik") == _cmd(service, "1", "gibtesnicht")
    with Session(service.engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_admin_statistics_are_aggregates_and_audited(database_url: str, kb: KnowledgeBase) -> None:
    service = _service(database_url, kb)
    _populate(service)
    text = "\n".join(_cmd(service, "4711", "statistik"))
    assert "Landkreis Uelzen: 1" in text and "Landkreis Harburg: 1" in text
    assert "Arbeitgeber / Betrieb: 1" in text
    assert "4711" not in text and "Nutzer: 3" in text
    with Session(service.engine) as s:
        entries = s.execute(sa.select(AuditEntry)).scalars().all()
    assert [(e.actor, e.action) for e in entries] == [(ADMIN, "statistics")]


def test_cli_admin_stats_as_json(sqlite_url: str, kb: KnowledgeBase) -> None:
    _populate(_service(sqlite_url, kb))
    result = cli("admin", "stats", "--json", env={"DATABASE_URL": sqlite_url})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["users"] == 2 and data["by_district"] == {"uelzen": 1, "harburg": 1}
    audit = cli("admin", "audit", env={"DATABASE_URL": sqlite_url})
    assert "cli:" in audit.stdout and "statistics" in audit.stdout


def _turn(service: ConversationService, user: str, **kw: Unpack[TurnFields]) -> list[str]:
    kind = TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
    return [r.text for r in service.handle_sync(make_turn("telegram", user, kind, **kw))]


def test_admin_adds_an_event_in_a_guided_dialog(database_url: str, kb: KnowledgeBase) -> None:
    from db.event_models import Event

    service = _service(database_url, kb)
    assert "Wie heißt" in _turn(service, "4711", command="termin_neu")[0]
    assert "Wann beginnt" in _turn(service, "4711", text="Infoabend Meisterschule (Beispiel)")[0]
    bad = _turn(service, "4711", text="gestern abend")
    assert "kein gültiger Zeitpunkt" in bad[0]
    assert "Wo findet" in _turn(service, "4711", text="24.03.2099 17:30")[0]
    assert "Landkreis" in _turn(service, "4711", text="TZH Lüneburg, Dahlenburger Landstraße")[0]
    preview = _turn(service, "4711", option_id="adm:dist:lueneburg")
    assert "Infoabend Meisterschule" in preview[0] and "24.03.2099" in preview[0] and "17:30" in preview[0]
    saved = _turn(service, "4711", option_id="adm:save")
    assert "Gespeichert als Termin Nr." in saved[0]
    with Session(service.engine) as s:
        event = s.execute(sa.select(Event)).scalar_one()
        actions = [e.action for e in s.execute(sa.select(AuditEntry)).scalars()]
    assert event.districts == ["lueneburg"] and event.place.startswith("TZH Lüneburg")
    assert (event.starts_at.hour, event.starts_at.minute) == (16, 30)  # 24 March is still CET (UTC+1)
    assert actions == ["event_add"]
    # the same command from a non-admin is unknown, and a forged admin button is stale
    assert _turn(service, "1", command="termin_neu") == _turn(service, "1", command="gibtesnicht")
    assert _turn(service, "1", option_id="adm:cancel:1") == _turn(service, "1", option_id="zzz:1")


def test_admin_cancels_and_changes_events_after_confirmation(sqlite_url: str, kb: KnowledgeBase) -> None:
    import datetime as dt

    from db.event_models import Event
    from db.events import upsert_events
    from knowledge.events import EventIn

    service = _service(sqlite_url, kb)
    start = dt.datetime(2099, 5, 4, 8, 0, tzinfo=dt.UTC)
    with Session(service.engine) as s:
        upsert_events(
            s, [EventIn(id="ev-a", title="Beratungstag (Beispiel)", start=start, place="Uelzen")], start
        )
        s.commit()
        event_id = s.execute(sa.select(col(Event.id))).scalar_one()
    assert "Welchen Termin" in _turn(service, "4711", command="termin_absagen")[0]
    assert f"Nr. {event_id}: Beratungstag (Beispiel)" in _turn(service, "4711", command="termin_absagen")[0]
    preview = service.handle_sync(
        make_turn("telegram", "4711", TurnKind.COMMAND, command="termin_absagen", args=str(event_id))
    )
    assert "absagen" in preview[0].text and f"adm:cancel:{event_id}" in [o.id for o in preview[0].options]
    assert "Abgesagt" in _turn(service, "4711", option_id=f"adm:cancel:{event_id}")[0]
    assert "schon abgesagt" in _turn(service, "4711", option_id=f"adm:cancel:{event_id}")[0]
    with Session(service.engine) as s:
        cancelled = s.get(Event, event_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled" and cancelled.notice_seq == 1

    with Session(service.engine) as s:
        upsert_events(s, [EventIn(id="ev-b", title="Infotag (Beispiel)", start=start, place="Winsen")], start)
        s.commit()
        other = s.execute(sa.select(col(Event.id)).where(col(Event.uid) == "ev-b")).scalar_one()
    service.handle_sync(
        make_turn("telegram", "4711", TurnKind.COMMAND, command="termin_aendern", args=str(other))
    )
    _turn(service, "4711", text="-")
    change_preview = _turn(service, "4711", text="Buchholz in der Nordheide, Rathaus")
    assert "Buchholz" in change_preview[0]
    assert "Geändert" in _turn(service, "4711", option_id=f"adm:change:{other}")[0]
    with Session(service.engine) as s:
        changed = s.get(Event, other)
        actions = [e.action for e in s.execute(sa.select(AuditEntry).order_by(col(AuditEntry.id))).scalars()]
    assert changed is not None and changed.place is not None
    assert changed.place.startswith("Buchholz") and changed.starts_at == start and changed.notice_seq == 1
    assert actions == ["event_cancel", "event_change"]


# --- admins are people, not chats (issue 15, item 3) -----------------------------------------
GROUP = "-100555"


def _in_group(service: ConversationService, sender: str, **kw: Unpack[TurnContent]) -> list[Reply]:
    kind = TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
    turn = make_turn("telegram", GROUP, kind, sender_id=sender, private=False, **kw)
    return service.handle_sync(turn)


def test_in_a_group_the_admin_is_the_person_not_the_group(sqlite_url: str, kb: KnowledgeBase) -> None:
    service = _service(sqlite_url, kb)
    stats = _in_group(service, "4711", command="statistik")
    assert stats[0].text.startswith("Statistik (nur Summen")
    # another member of the same group is no admin: the command does not exist for them
    member = [r.text for r in _in_group(service, "1", command="statistik")]
    assert member == [r.text for r in _in_group(service, "1", command="gibtesnicht")]
    # the documented Matrix form names a person and works in any room
    room, ann = "!raum:example.org", "@ann:example.org"
    matrix = make_turn("matrix", room, TurnKind.COMMAND, command="statistik", sender_id=ann)
    assert service.handle_sync(matrix)[0].text.startswith("Statistik (nur Summen")
    with Session(service.engine) as s:
        actors = [e.actor for e in s.execute(sa.select(AuditEntry).order_by(col(AuditEntry.id))).scalars()]
    assert actors == [ADMIN, "matrix:@ann:example.org"]


def test_a_second_member_cannot_confirm_or_continue_an_admins_pending_action(
    sqlite_url: str, kb: KnowledgeBase
) -> None:
    import datetime as dt

    from db.event_models import Event
    from db.events import upsert_events
    from knowledge.events import EventIn

    settings = load_settings(_env_file=None, admin_ids=f"{ADMIN},telegram:4712")
    service = ConversationService(make_engine(sqlite_url), kb, feature_settings(settings), build_features())
    start = dt.datetime(2099, 5, 4, 8, 0, tzinfo=dt.UTC)
    with Session(service.engine) as s:
        upsert_events(s, [EventIn(id="ev-g", title="Infotag (Beispiel)", start=start, place="Uelzen")], start)
        s.commit()
        event_id = s.execute(sa.select(col(Event.id))).scalar_one()
    preview = _in_group(service, "4711", command="termin_absagen", args=str(event_id))
    confirm = f"adm:cancel:{event_id}"
    assert confirm in [o.id for o in preview[0].options]

    # a plain member and a second admin press the first admin's confirmation: nothing happens
    assert _in_group(service, "1", option_id=confirm) == []
    assert _in_group(service, "4712", option_id=confirm) == []
    assert _in_group(service, "4712", option_id="adm:abort") == []
    with Session(service.engine) as s:
        pending = s.get(Event, event_id)
        assert pending is not None and pending.status != "cancelled"

    # the second admin's typed text does not continue the first admin's wizard either
    _in_group(service, "4711", command="termin_neu")
    _in_group(service, "4712", text="Fremder Titel")
    asked = _in_group(service, "4711", text="Infoabend (Beispiel)")
    assert "Wann beginnt" in asked[0].text
    _in_group(service, "4711", option_id="adm:abort")

    # only the admin who asked can confirm
    preview = _in_group(service, "4711", command="termin_absagen", args=str(event_id))
    assert "Abgesagt" in _in_group(service, "4711", option_id=confirm)[0].text
    with Session(service.engine) as s:
        done = s.get(Event, event_id)
        assert done is not None and done.status == "cancelled"
        actors = [e.actor for e in s.execute(sa.select(AuditEntry)).scalars()]
    assert actors == [ADMIN]
