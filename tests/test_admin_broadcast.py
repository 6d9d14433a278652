"""Admin broadcasts: the messenger dialog (target, text, preview, confirm), the outbox rows it queues,
and their way out through the real TelegramSender to the Bot API stand-in — once per recipient,
rate-limited, 429 waited out, 403 deactivating. Time is injected (turn time, dispatcher clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Unpack

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.audit import AuditEntry
from db.engine import session_scope
from db.event_models import BROADCAST_MAX_TEXT, Broadcast, Delivery, Subscription
from db.models import User
from db.privacy import delete_user
from handlers.turn import Reply, TurnKind
from knowledge.base import KnowledgeBase
from tests.reminders_support import (
    Clock,
    Telegram,
    add_subscribers,
    local,
    statuses,
    telegram_dispatcher,
)
from tests.turns import TurnFields, make_turn

# PTB warns about its own RetryAfter attribute type whenever a 429 is parsed; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
ADMIN = "4711"
AFTERNOON = local(2027, 3, 3, 17, 0)  # outside the quiet hours of RULES (21:00–08:00)
TEXT = "Am 12. März öffnet das neue Lernzentrum in Uelzen. Schauen Sie vorbei! (Beispiel)"


def _service(engine: sa.Engine, kb: KnowledgeBase) -> ConversationService:
    settings = load_settings(_env_file=None, admin_ids=f"telegram:{ADMIN}")
    return ConversationService(engine, kb, feature_settings(settings), build_features())


def _say(
    service: ConversationService, user: str, at: dt.datetime = AFTERNOON, **kw: Unpack[TurnFields]
) -> list[Reply]:
    kind = TurnKind.COMMAND if "command" in kw else TurnKind.OPTION if "option_id" in kw else TurnKind.TEXT
    return service.handle_sync(make_turn("telegram", user, kind, at=at, **kw))


def _texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


def _broadcast(service: ConversationService, target: str, text: str = TEXT) -> list[Reply]:
    """The admin's whole dialog with valid answers; returns the answer to the confirmation."""
    _say(service, ADMIN, command="rundschreiben")
    _say(service, ADMIN, option_id=f"adm:bcto:{target}")
    preview = _say(service, ADMIN, text=text)
    assert "adm:bcsend" in [o.id for o in preview[-1].options]
    return _say(service, ADMIN, option_id="adm:bcsend")


@dataclass
class Audience:
    """Subscribers by role (external ids): who must get a district/sector broadcast and who must not."""

    uelzen_handwerk: str
    uelzen_it: str
    harburg_handwerk: str
    lueneburg_it: str
    subscription_ended: str  # Uelzen, Handwerk, but the subscription is over
    user_inactive: str  # Uelzen, Handwerk, but the user is no longer reachable
    all: list[str] = field(default_factory=list)


def _audience(engine: sa.Engine) -> Audience:
    since = AFTERNOON - dt.timedelta(days=30)
    (a,) = add_subscribers(engine, 1, since, first_id=1000, district="uelzen", sector="handwerk")
    (b,) = add_subscribers(engine, 1, since, first_id=1001, district="uelzen", sector="it")
    (c,) = add_subscribers(engine, 1, since, first_id=1002, district="harburg", sector="handwerk")
    (d,) = add_subscribers(engine, 1, since, first_id=1003, district="lueneburg", sector="it")
    ended, inactive = add_subscribers(engine, 2, since, first_id=1004, district="uelzen", sector="handwerk")
    with session_scope(engine) as session:
        session.execute(
            sa.update(Subscription)
            .where(col(Subscription.user_id) == _user_id(session, ended))
            .values(active=False, end_reason="stop")
        )
        session.execute(sa.update(User).where(col(User.external_id) == inactive).values(active=False))
    return Audience(a, b, c, d, ended, inactive, [a, b, c, d, ended, inactive])


def _user_id(session: Session, external_id: str) -> int:
    return session.exec(select(User.id).where(User.external_id == external_id)).one()  # type: ignore[return-value]


def _recipients(engine: sa.Engine, broadcast_id: int) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(User.external_id)
            .join(Delivery, Delivery.user_id == User.id)  # type: ignore[arg-type]
            .where(Delivery.broadcast_id == broadcast_id)
        ).all()
    return set(rows)


def test_non_admins_get_the_unknown_command_answer(sqlite_url: str, kb: KnowledgeBase) -> None:
    from db.engine import make_engine

    engine = make_engine(sqlite_url)
    service = _service(engine, kb)
    _say(service, "1", command="start")
    assert _texts(_say(service, "1", command="rundschreiben")) == _texts(
        _say(service, "1", command="gibtesnicht")
    )
    # forged admin buttons are stale, and nothing is stored or audited
    for forged in ("adm:bcto:district:uelzen", "adm:bcsend"):
        assert _texts(_say(service, "1", option_id=forged)) == _texts(_say(service, "1", option_id="zzz:1"))
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Broadcast)).scalar_one() == 0
        assert s.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0
    engine.dispose()


def test_admin_dialog_queues_one_delivery_per_matching_subscriber(
    engine: sa.Engine, kb: KnowledgeBase
) -> None:
    people = _audience(engine)
    service = _service(engine, kb)

    question = _say(service, ADMIN, command="rundschreiben")[-1]
    targets = {o.id: o.label for o in question.options}
    assert targets["adm:bcto:district:uelzen"] == "Landkreis Uelzen"
    assert targets["adm:bcto:district:luechow"] == "Landkreis Lüchow-Dannenberg"
    assert targets["adm:bcto:sector:handwerk"] == "Handwerk" and "adm:abort" in targets
    # nobody subscribed there: said so, and the choice is offered again
    nobody = _say(service, ADMIN, option_id="adm:bcto:district:luechow")
    assert "niemand" in nobody[0].text and "adm:bcto:district:uelzen" in [o.id for o in nobody[-1].options]

    asked = _say(service, ADMIN, option_id="adm:bcto:district:uelzen")
    assert "Landkreis Uelzen" in asked[-1].text and "2000 Zeichen" in asked[-1].text
    blank = _texts(_say(service, ADMIN, text="   "))
    assert "kein Text" in blank[0] and "Bitte schreiben Sie jetzt den Text" in blank[-1]
    too_long = _texts(_say(service, ADMIN, text="x" * 2001))
    assert "2001 Zeichen" in too_long[0] and "Bitte schreiben Sie jetzt den Text" in too_long[-1]
    preview = _say(service, ADMIN, text="Ein erster Entwurf")
    assert "Ein erster Entwurf" in preview[-1].text and "2 Empfänger" in preview[-1].text
    preview = _say(service, ADMIN, text=TEXT)  # a new text replaces the draft
    assert TEXT in preview[-1].text and "Ein erster Entwurf" not in preview[-1].text
    assert "/stop" in preview[-1].text  # the recipients' footer is part of the preview
    queued = _texts(_say(service, ADMIN, option_id="adm:bcsend"))
    assert "Nr. 1" in queued[0] and "2 Empfänger" in queued[0]
    assert _recipients(engine, 1) == {people.uelzen_handwerk, people.uelzen_it}
    # pressing "send" again sends nothing more
    assert "nicht mehr aktuell" in _texts(_say(service, ADMIN, option_id="adm:bcsend"))[0]

    queued = _texts(_broadcast(service, "sector:handwerk", "Neue Meisterkurse im Handwerk (Beispiel)"))
    assert "Nr. 2" in queued[0] and "2 Empfänger" in queued[0]
    assert _recipients(engine, 2) == {people.uelzen_handwerk, people.harburg_handwerk}

    with Session(engine) as s:
        rows = s.exec(select(Delivery).order_by(col(Delivery.id))).all()
        stored = s.exec(select(Broadcast).order_by(col(Broadcast.id))).all()
        audit = s.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert len(rows) == 4
    assert {(d.kind, d.event_id, d.status, d.transport) for d in rows} == {
        ("broadcast", None, "pending", "telegram")
    }
    assert [(b.text, b.target_kind, b.target_value, b.recipients) for b in stored] == [
        (TEXT, "district", "uelzen", 2),
        ("Neue Meisterkurse im Handwerk (Beispiel)", "sector", "handwerk", 2),
    ]
    assert stored[0].created_by == f"telegram:{ADMIN}" and stored[0].created_at == AFTERNOON
    assert [(e.actor, e.action) for e in audit] == [(f"telegram:{ADMIN}", "broadcast")] * 2
    assert audit[0].detail == {
        "broadcast": 1,
        "target_kind": "district",
        "target_value": "uelzen",
        "recipients": 2,
    }
    assert not any(ext in str(e.detail) for e in audit for ext in people.all)  # never who


def test_aborting_stores_nothing(engine: sa.Engine, kb: KnowledgeBase) -> None:
    _audience(engine)
    service = _service(engine, kb)
    _say(service, ADMIN, command="rundschreiben")
    _say(service, ADMIN, option_id="adm:bcto:district:uelzen")
    _say(service, ADMIN, text=TEXT)
    assert "nichts gespeichert" in _texts(_say(service, ADMIN, option_id="adm:abort"))[0]
    assert "nicht mehr aktuell" in _texts(_say(service, ADMIN, option_id="adm:bcsend"))[0]
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Broadcast)).scalar_one() == 0
        assert s.execute(sa.select(sa.func.count()).select_from(Delivery)).scalar_one() == 0


def test_deleting_a_recipient_removes_their_broadcast_rows(engine: sa.Engine, kb: KnowledgeBase) -> None:
    people = _audience(engine)
    _broadcast(_service(engine, kb), "district:uelzen")
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.external_id == people.uelzen_it)).one()
        delete_user(session, user)
    assert _recipients(engine, 1) == {people.uelzen_handwerk}
    with Session(engine) as s:
        assert s.exec(select(Broadcast.recipients)).one() == 2  # the admin's record stays


# --- through Telegram ------------------------------------------------------------------------


async def test_broadcast_arrives_once_per_recipient_and_a_blocked_user_is_deactivated(
    engine: sa.Engine, kb: KnowledgeBase, telegram: Telegram
) -> None:
    people = _audience(engine)
    extra = add_subscribers(engine, 6, AFTERNOON - dt.timedelta(days=1), first_id=2000, district="uelzen")
    service = _service(engine, kb)
    blocked = extra[0]
    telegram.api.block(int(blocked))
    # a 429 for one reachable recipient: waited out by the limiter, then resent
    telegram.api.inject("sendMessage", status=429, retry_after=2, chat_id=int(extra[1]))
    assert "8 Empfänger" in _texts(_broadcast(service, "district:uelzen"))[0]

    clock = Clock(AFTERNOON + dt.timedelta(minutes=1))
    dispatcher = telegram_dispatcher(engine, telegram, clock)
    report = await dispatcher.dispatch()
    assert (report.sent, report.blocked, report.failed, report.skipped) == (7, 1, 0, 0)
    assert 2.0 in telegram.limiter_waits  # waited as long as Telegram said
    for chat in [people.uelzen_handwerk, people.uelzen_it, *extra[1:]]:
        (message,) = telegram.api.messages(int(chat))
        assert message.text.startswith(TEXT) and "Abmelden: /stop" in message.text
        assert message.buttons[0].callback_data is not None
        assert message.buttons[0].callback_data.endswith("|abo:stop")
    left_out = (people.harburg_handwerk, people.lueneburg_it, people.subscription_ended, people.user_inactive)
    for chat in left_out:
        assert telegram.texts(chat) == []
    assert telegram.statuses_of_sends(blocked) == [403]
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == blocked)).one()
        sub = session.exec(select(Subscription).where(Subscription.user_id == user.id)).one()
    assert not user.active and not sub.active and sub.end_reason == "blocked"
    assert statuses(engine) == {"sent": 7, "blocked": 1}

    calls = len(telegram.api.calls_to("sendMessage"))
    clock.set(clock.now + dt.timedelta(hours=1))
    again = await dispatcher.dispatch()
    assert again.total == 0 and len(telegram.api.calls_to("sendMessage")) == calls  # exactly once


async def test_a_broadcast_confirmed_at_night_waits_for_the_morning(
    engine: sa.Engine, kb: KnowledgeBase, telegram: Telegram
) -> None:
    people = _audience(engine)
    night = local(2027, 3, 3, 23, 30)
    service = _service(engine, kb)
    _say(service, ADMIN, at=night, command="rundschreiben")
    _say(service, ADMIN, at=night, option_id="adm:bcto:sector:it")
    _say(service, ADMIN, at=night, text=TEXT)
    _say(service, ADMIN, at=night, option_id="adm:bcsend")

    clock = Clock(night + dt.timedelta(minutes=5))
    dispatcher = telegram_dispatcher(engine, telegram, clock)
    assert (await dispatcher.dispatch()).total == 0
    assert telegram.statuses_of_sends() == []
    clock.set(local(2027, 3, 4, 8, 0))
    assert (await dispatcher.dispatch()).sent == 2
    assert telegram.texts(people.uelzen_it)[0].startswith(TEXT)
    assert telegram.texts(people.lueneburg_it)[0].startswith(TEXT)


async def test_an_emoji_broadcast_of_the_longest_allowed_text_is_delivered(
    engine: sa.Engine, kb: KnowledgeBase, telegram: Telegram
) -> None:
    """Telegram counts UTF-16 units: 2,000 emoji are 4,000 units, with the footer over the limit."""
    people = _audience(engine)
    service = _service(engine, kb)
    emoji = "🎉" * BROADCAST_MAX_TEXT
    assert "2 Empfänger" in _texts(_broadcast(service, "sector:it", emoji))[0]

    dispatcher = telegram_dispatcher(engine, telegram, Clock(AFTERNOON + dt.timedelta(minutes=1)))
    report = await dispatcher.dispatch()
    assert (report.sent, report.failed) == (2, 0)
    for chat in (people.uelzen_it, people.lueneburg_it):
        texts = telegram.texts(chat)
        assert len(texts) == 2 and all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in texts)
        assert "".join(texts).count("🎉") == BROADCAST_MAX_TEXT and "Abmelden: /stop" in texts[-1]
    assert set(telegram.statuses_of_sends()) == {200}
