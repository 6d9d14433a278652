"""DSGVO: notice, export of everything stored, deletion of everything in one transaction, purge."""

from __future__ import annotations

import datetime as dt
import json
from typing import Unpack

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.engine import make_engine, session_scope
from db.event_models import Subscription
from db.models import Profile, User
from db.privacy import purge_inactive
from db.schema import metadata
from handlers.turn import Reply, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import TurnContent, TurnFields, make_turn


def _service(url: str, kb: KnowledgeBase) -> ConversationService:
    settings = load_settings(
        _env_file=None, operator_name="Netzwerk Test", privacy_contact="dsb@test.example"
    )
    return ConversationService(make_engine(url), kb, feature_settings(settings), build_features())


def _say(service: ConversationService, user: str, **kw: Unpack[TurnFields]) -> list[Reply]:
    kind = TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
    return service.handle_sync(make_turn("telegram", user, kind, **kw))


def _rows_mentioning(engine: sa.Engine, user_id: int, external_id: str) -> dict[str, int]:
    """Counts rows in any table that refer to the user by id (FK) or by external id."""
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            conds = [fk.parent == user_id for fk in table.foreign_keys if fk.column.table.name == "users"]
            if table.name == "users":
                conds += [table.c.id == user_id, table.c.external_id == external_id]
            conds += [
                c == external_id for c in table.columns if c.name in ("external_id", "chat_id", "room_id")
            ]
            if conds:
                n = conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(sa.or_(*conds))
                ).scalar_one()
                if n:
                    found[table.name] = n
    return found


def _add_delivery(engine: sa.Engine, user_id: int) -> None:
    from db.event_models import Delivery, Event

    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as s:
        event = Event(uid="priv-test", title="Infotag (Beispiel)", starts_at=now, content_hash="x")
        s.add(event)
        s.flush()
        s.add(
            Delivery(
                user_id=user_id, event_id=event.id, kind="reminder", n=1440, transport="telegram", due_at=now
            )
        )


def _user_id(engine: sa.Engine, external_id: str) -> int:
    with Session(engine) as s:
        return s.execute(sa.select(col(User.id)).where(col(User.external_id) == external_id)).scalar_one()


def test_privacy_notice_names_operator_contact_and_retention(sqlite_url: str, kb: KnowledgeBase) -> None:
    replies = _say(_service(sqlite_url, kb), "7", command="datenschutz")
    text = replies[0].text
    assert "Netzwerk Test" in text and "dsb@test.example" in text and "12 Monate" in text


def test_my_data_is_a_readable_message_and_a_json_file(database_url: str, kb: KnowledgeBase) -> None:
    service = _service(database_url, kb)
    _say(service, "7", command="start")
    _say(service, "7", text="Ich bin Pflegekraft in Uelzen")
    reply = _say(service, "7", command="meinedaten")[0]
    assert "Landkreis Uelzen" in reply.text and "Gesundheit" in reply.text
    assert reply.attachment is not None and reply.attachment.filename.endswith(".json")
    data = json.loads(reply.attachment.data)
    assert data["users"][0]["external_id"] == "7"
    assert data["profiles"][0]["district"] == "uelzen"


def test_delete_after_confirmation_leaves_no_row_behind(database_url: str, kb: KnowledgeBase) -> None:
    service = _service(database_url, kb)
    _say(service, "99", command="start")
    _say(service, "99", text="Ich bin arbeitslos in Lüneburg und suche eine Umschulung")
    _say(service, "100", command="start")  # someone else, who must stay
    _say(service, "99", option_id="abo:start")  # subscribed to reminders …
    uid = _user_id(service.engine, "99")
    _add_delivery(service.engine, uid)  # … and already reminded once
    before = _rows_mentioning(service.engine, uid, "99")
    assert {"users", "conversations", "profiles", "subscriptions", "deliveries"} <= set(before)
    attachment = _say(service, "99", command="meinedaten")[0].attachment
    assert attachment is not None
    export = json.loads(attachment.data)
    assert {"subscriptions", "deliveries"} <= set(export)
    ask = _say(service, "99", command="loeschen")
    assert "wirklich" in ask[0].text and {o.id for o in ask[0].options} == {
        "priv:delete_yes",
        "priv:delete_no",
    }
    done = _say(service, "99", option_id="priv:delete_yes")
    assert "gelöscht" in done[0].text
    assert _rows_mentioning(service.engine, uid, "99") == {}
    assert _rows_mentioning(service.engine, _user_id(service.engine, "100"), "100")
    fresh = _say(service, "99", text="hallo")
    assert "Willkommen zurück" not in fresh[0].text


def test_delete_can_be_declined_by_button_or_text(sqlite_url: str, kb: KnowledgeBase) -> None:
    service = _service(sqlite_url, kb)
    _say(service, "5", command="start")
    _say(service, "5", command="loeschen")
    assert "nichts gelöscht" in _say(service, "5", text="nein")[0].text
    _say(service, "5", command="loeschen")
    assert "nichts gelöscht" in _say(service, "5", option_id="priv:delete_no")[0].text
    assert _rows_mentioning(service.engine, _user_id(service.engine, "5"), "5")
    assert "nicht mehr aktuell" in _say(service, "5", option_id="priv:delete_yes")[0].text


def test_inactive_users_are_purged_after_the_retention_period(database_url: str, kb: KnowledgeBase) -> None:
    service = _service(database_url, kb)
    _say(service, "old", command="start")
    _say(service, "new", command="start")
    with session_scope(service.engine) as s:
        old = s.execute(sa.select(User).where(col(User.external_id) == "old")).scalar_one()
        old.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    with session_scope(service.engine) as s:
        purged = purge_inactive(s, dt.datetime.now(dt.UTC) - dt.timedelta(days=365))
    assert purged == 1
    with Session(service.engine) as s:
        assert [u.external_id for u in s.execute(sa.select(User)).scalars()] == ["new"]


def test_language_follows_the_client_and_can_be_switched(sqlite_url: str, kb: KnowledgeBase) -> None:
    service = _service(sqlite_url, kb)
    start = make_turn("telegram", "en1", TurnKind.COMMAND, command="start", language="en-GB")
    english = service.handle_sync(start)
    assert "Hello!" in english[0].text and english[-1].options[0].label == "Employer / business"
    german = _say(service, "de1", command="start")
    assert "Guten Tag" in german[0].text
    choose = _say(service, "de1", command="sprache")
    assert {o.id for o in choose[0].options} == {"lang:de", "lang:en"}
    assert "English" in _say(service, "de1", option_id="lang:en")[0].text
    help_text = _say(service, "de1", command="hilfe")[0].text
    assert "How the Bildungslotse works" in help_text
    _say(service, "de1", text="Ich bin Pflegekraft in Uelzen und will mich weiterbilden")
    cards = [r for r in _say(service, "de1", option_id="goal:weiterbildung") if r.options]
    offer_text = "\n".join(r.text for r in cards)
    assert "Why it fits:" in offer_text  # explanations in English, offer titles stay German


async def test_scheduled_purge_runs_at_start_up(database_url: str, kb: KnowledgeBase) -> None:
    import asyncio

    from bot.maintenance import MaintenanceRuntime

    service = _service(database_url, kb)
    _say(service, "gone", command="start")
    _say(service, "kept", command="start")
    with session_scope(service.engine) as s:
        gone = s.execute(sa.select(User).where(col(User.external_id) == "gone")).scalar_one()
        gone.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=13 * 31)
    runtime = MaintenanceRuntime(service.settings, service.engine)
    await runtime.start()
    try:
        for _ in range(100):  # the job runs once right at start-up; bounded wait for it
            with Session(service.engine) as s:
                left = [u.external_id for u in s.execute(sa.select(User)).scalars()]
            if left == ["kept"]:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
    assert left == ["kept"]


def test_default_language_applies_when_the_client_gives_none(sqlite_url: str, kb: KnowledgeBase) -> None:
    settings = load_settings(_env_file=None, default_language="en")
    service = ConversationService(make_engine(sqlite_url), kb, feature_settings(settings), build_features())
    assert "Hello!" in _say(service, "x1", command="start")[0].text
    german_client = make_turn("telegram", "x2", TurnKind.COMMAND, command="start", language="de")
    assert "Guten Tag" in service.handle_sync(german_client)[0].text


# --- in groups and rooms, "meine Daten" is nobody's (issue 15, item 4) -----------------------
def test_in_a_group_export_and_deletion_point_to_a_private_chat(sqlite_url: str, kb: KnowledgeBase) -> None:
    from handlers.catalogue import t

    service = _service(sqlite_url, kb)
    group = "-100777"

    def in_group(sender: str, **kw: Unpack[TurnContent]) -> list[Reply]:
        kind = (
            TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
        )
        turn = make_turn(
            "telegram",
            group,
            kind,
            sender_id=sender,
            private=False,
            direct_url="https://t.me/lotse_bot",
            **kw,
        )
        return service.handle_sync(turn)

    in_group("8", command="start")
    in_group("8", text="Ich arbeite als Pflegekraft in Uelzen")
    for command in ("meinedaten", "loeschen"):
        (reply,) = in_group("9", command=command)
        assert reply.text == t("de", "privacy.private_only_link") and reply.attachment is None
        assert [link.url for link in reply.links] == ["https://t.me/lotse_bot"]
    # a forged confirmation deletes nothing either
    assert in_group("9", option_id="priv:delete_yes")[0].text == t("de", "privacy.private_only_link")
    assert _user_id(service.engine, group)
    # without a link (Matrix): a direct message is what the person is asked for
    room = make_turn(
        "matrix", "!raum:x", TurnKind.COMMAND, command="meinedaten", sender_id="@b:x", private=False
    )
    assert service.handle_sync(room)[0].text == t("de", "privacy.private_only.matrix")


def test_a_newcomer_alone_in_a_former_direct_room_gets_nothing_of_the_earlier_person(
    sqlite_url: str, kb: KnowledgeBase
) -> None:
    """A Matrix room was private with A; A leaves, B is now alone with the bot: not B's private chat."""
    from handlers.catalogue import t

    service = _service(sqlite_url, kb)
    room = "!dm:example.org"

    def say(sender: str, **kw: Unpack[TurnContent]) -> list[Reply]:
        kind = (
            TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
        )
        return service.handle_sync(make_turn("matrix", room, kind, sender_id=sender, **kw))

    say("@a:example.org", command="start")
    say("@a:example.org", text="Ich arbeite als Pflegekraft in Uelzen")
    assert say("@a:example.org", command="meinedaten")[0].attachment is not None
    say("@a:example.org", command="start")  # a restart of the dialog does not hand the room over
    for command in ("meinedaten", "loeschen"):
        (reply,) = say("@b:example.org", command=command)
        assert reply.text == t("de", "privacy.private_only.matrix") and reply.attachment is None
    # the now shared conversation shows nobody the earlier person's answers
    assert [r.text for r in say("@b:example.org", command="profil")][-1] == t("de", "profile.empty", p="!")
    with Session(service.engine) as s:
        profile = s.get(Profile, _user_id(service.engine, room))
        assert profile is None or (profile.situation, profile.district) == (None, None)
    assert say("@a:example.org", command="meinedaten")[0].attachment is not None  # A alone again


def test_in_a_former_direct_room_the_earlier_persons_subscription_is_shown_to_nobody(
    sqlite_url: str, kb: KnowledgeBase
) -> None:
    """A subscribed in the direct room; B is in the room now and asks for "!abo" before the transport
    noticed the newcomer: B gets the plain offer, nothing of A's subscription, and A's pauses."""
    from handlers.catalogue import t

    service = _service(sqlite_url, kb)
    room = "!dm2:example.org"

    def say(sender: str, private: bool, **kw: Unpack[TurnContent]) -> list[Reply]:
        kind = TurnKind.COMMAND if "command" in kw else TurnKind.OPTION
        return service.handle_sync(make_turn("matrix", room, kind, sender_id=sender, private=private, **kw))

    say("@a:example.org", True, command="start")
    say("@a:example.org", True, option_id="sit:beschaeftigt")
    say("@a:example.org", True, option_id="abo:start")
    with Session(service.engine) as s:
        sub = s.execute(sa.select(Subscription)).scalar_one()
    assert sub.active and sub.personal

    replies = say("@b:example.org", False, command="abo")
    shown = "\n".join(r.text for r in replies)
    assert t("de", "situation.beschaeftigt") not in shown  # A's profile is not on B's screen
    assert [o.id for r in replies for o in r.options][:1] == ["abo:start"]  # just the offer
    with Session(service.engine) as s:
        sub = s.execute(sa.select(Subscription)).scalar_one()
    assert not sub.active and sub.end_reason == "shared"
    # B subscribes for the room: a group subscription, served in the room as before
    say("@b:example.org", False, option_id="abo:start")
    with Session(service.engine) as s:
        sub = s.execute(sa.select(Subscription)).scalar_one()
    assert sub.active and not sub.personal
