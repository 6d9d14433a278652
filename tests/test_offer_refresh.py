"""A partner's edit reaches a running bot without a restart (SQLite and PostgreSQL).

The bot is the service `bildungslotse run` builds (`build_service`, offer base read from the
database), the edits go through db/offer_store.py exactly as the partner console and the CLI make
them, and the refresh is the scheduler's job called directly with a pinned clock. What is asserted
is what a user reads: the offer details, the contact and the results page before and after.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.app import build_service
from bot.console import chat
from bot.conversation import ConversationService
from bot.offer_refresh import OfferRefresh
from bot.settings import load_settings
from db import offer_store
from db.engine import make_engine, session_scope
from db.models import InstitutionRecord, OfferRecord
from handlers.catalogue import t
from handlers.turn import Reply, TurnKind
from knowledge.loader import load_offer_base
from tests.telegram_standin import free_port
from tests.turns import make_turn

NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
BERLIN = dt.timezone(dt.timedelta(hours=1))
DIALOG = ("sit:beschaeftigt", "dist:lueneburg", "sec:gesundheit", "goal:weiterbildung")
NEW_SUMMARY = "Neu von der Partnerin formuliert: Beratung jetzt auch samstags in Lüneburg."
NEW_PHONE = "04131 999 000"
RENAMED = "Beratung für Frauen im Beruf (neuer Titel)"


@dataclass
class Bot:
    engine: sa.Engine
    service: ConversationService
    refresh: OfferRefresh

    def say(self, kind: TurnKind, user: str = "u1", **kw: Any) -> str:
        replies: list[Reply] = self.service.handle_sync(make_turn("console", user, kind, **kw))
        return "\n".join(r.text for r in replies)

    def results(self, user: str = "u1") -> tuple[str, list[str]]:
        """The first results page of the dialog: its text and the offers it lists."""
        self.say(TurnKind.COMMAND, user, command="start")
        replies: list[Reply] = []
        for option in DIALOG:
            replies = self.service.handle_sync(make_turn("console", user, TurnKind.OPTION, option_id=option))
        ids = [o.id.removeprefix("offer:") for r in replies for o in r.options if o.id.startswith("offer:")]
        return "\n".join(r.text for r in replies), ids

    def details(self, offer_id: str, user: str = "u1") -> str:
        return self.say(TurnKind.OPTION, user, option_id=f"offer:{offer_id}")

    def contact(self, offer_id: str, user: str = "u1") -> str:
        return self.say(TurnKind.OPTION, user, option_id=f"contact:{offer_id}")


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    settings = load_settings(_env_file=None, database_url=database_url)
    engine = make_engine(database_url)
    service = build_service(settings, engine)  # seeds the bundled base, as the first bot process does
    yield Bot(engine, service, OfferRefresh(service, engine, settings.offer_refresh_seconds, lambda: NOW))
    engine.dispose()


def console_edit(engine: sa.Engine, offer_id: str, summary: str, phone: str | None = None) -> None:
    """What the console's „Speichern“ does (bot/partner_console/pages_offers.py save_offer)."""
    with session_scope(engine) as session:
        row = session.get(OfferRecord, offer_id)
        assert row is not None
        offer_store.edit_offer(
            session, row, {"summary": summary, "next_step": row.data["next_step"]}, NOW, "console:anna"
        )
        if phone is not None:
            institution = session.get(InstitutionRecord, row.data["provider"])
            assert institution is not None
            contact = {k: str(institution.data.get(k) or "") for k in offer_store.CONTACT_FIELDS}
            offer_store.edit_institution(
                session, institution, {**contact, "phone": phone}, NOW, "console:anna"
            )


def revision(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return offer_store.revision(session)


def test_a_console_edit_reaches_the_running_bot_at_its_next_check(bot: Bot) -> None:
    _, offers = bot.results()
    first = offers[0]
    old_summary = bot.service.kb.offers_by_id[first].summary
    assert old_summary in bot.details(first)
    loaded = bot.service.knowledge.revision
    assert loaded == revision(bot.engine)

    console_edit(bot.engine, first, NEW_SUMMARY, phone=NEW_PHONE)
    assert revision(bot.engine) > loaded  # the edit told every process, in its own transaction
    assert old_summary in bot.details(first)  # not before this process looked

    assert bot.refresh.check() is True
    assert bot.service.knowledge.revision == revision(bot.engine)
    assert bot.refresh.status() == {"revision": revision(bot.engine), "loaded_at": NOW.isoformat()}
    text = bot.details(first)
    assert NEW_SUMMARY in text and old_summary not in text
    assert NEW_PHONE in bot.contact(first)
    assert bot.results(user="u2")[1] == offers  # the same advice, nothing else moved

    swapped = bot.service.knowledge
    assert bot.refresh.check() is False  # nothing new: no reload, the same object stays in use
    assert bot.service.knowledge is swapped


def test_mark_checked_and_knowledge_load_reach_the_running_bot(bot: Bot) -> None:
    page, offers = bot.results()
    first = offers[0]
    assert "geprüft am" not in bot.details(first)

    with session_scope(bot.engine) as session:  # „Als geprüft markieren“ / `knowledge verify`
        assert offer_store.verify_offer(session, first, "Anna Berger", NOW, BERLIN, actor="console:anna")
    assert bot.refresh.check() is True
    assert "Von einer Person geprüft am 03.12.2026" in bot.details(first)

    # `knowledge load` of files in which the provider renamed the offer
    old_title = bot.service.kb.offers_by_id[first].title
    assert old_title in page
    base = load_offer_base()
    renamed = tuple(o.model_copy(update={"title": RENAMED}) if o.id == first else o for o in base.offers)
    with session_scope(bot.engine) as session:
        report = offer_store.upsert_offer_base(session, dataclasses.replace(base, offers=renamed), now=NOW)
    assert report.updated == 1
    assert bot.refresh.check() is True
    page, _ = bot.results(user="u2")
    assert RENAMED in page and old_title not in page
    assert "Von einer Person geprüft am 03.12.2026" in bot.details(first, user="u2")  # the check stays

    before = revision(bot.engine)
    with session_scope(bot.engine) as session:  # loading the same files again changes nothing
        offer_store.upsert_offer_base(session, dataclasses.replace(base, offers=renamed), now=NOW)
    assert revision(bot.engine) == before
    assert bot.refresh.check() is False


def test_a_turn_running_while_the_new_base_is_swapped_in_answers_from_the_base_it_started_with(
    bot: Bot,
) -> None:
    _, offers = bot.results()
    first = offers[0]
    old_summary = bot.service.kb.offers_by_id[first].summary
    armed, swapped = [False], []

    def mid_turn(*_: object) -> None:
        """When the turn (already begun) opens its database connection: a partner saves, and the
        refresh runs on connections of its own and swaps in the new base."""
        if armed[0]:
            armed[0] = False
            console_edit(bot.engine, first, NEW_SUMMARY)
            swapped.append(bot.refresh.check())

    sa.event.listen(bot.engine, "engine_connect", mid_turn)
    try:
        armed[0] = True
        during = bot.details(first)
    finally:
        sa.event.remove(bot.engine, "engine_connect", mid_turn)
    assert swapped == [True]
    assert old_summary in during and NEW_SUMMARY not in during  # whole, and from the old base
    assert "schiefgelaufen" not in during and "nicht erreichbar" not in during
    after = bot.details(first)
    assert NEW_SUMMARY in after and old_summary not in after


def test_a_failed_reload_keeps_the_old_base_logs_one_line_and_the_next_check_retries(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    _, offers = bot.results()
    first = offers[0]
    old_summary = bot.service.kb.offers_by_id[first].summary
    loaded = bot.service.knowledge
    console_edit(bot.engine, first, NEW_SUMMARY)

    # the database does not answer (a PostgreSQL nobody listens for; the password must not be logged)
    gone = make_engine(f"postgresql://bl_reader:s3cret-pw@127.0.0.1:{free_port()}/offers")
    unreachable = OfferRefresh(bot.service, gone, 30, lambda: NOW)
    with caplog.at_level(logging.INFO, logger="bot.offer_refresh"):
        assert unreachable.check() is False
    gone.dispose()
    assert bot.service.knowledge is loaded
    assert old_summary in bot.details(first)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    message = record.getMessage()
    assert "\n" not in message and "OperationalError" in message
    assert "s3cret" not in message and "bl_reader" not in message

    # a row nobody can read (changed by hand past the console's validation): the whole reload fails
    caplog.clear()
    with session_scope(bot.engine) as session:
        row = session.get(OfferRecord, first)
        assert row is not None
        good = dict(row.data)
        row.data = {**good, "summary": ""}
        session.add(row)
        session.execute(sa.text("UPDATE offer_base_revision SET revision = revision + 1"))
    with caplog.at_level(logging.INFO, logger="bot.offer_refresh"):
        assert bot.refresh.check() is False
    assert bot.service.knowledge is loaded and old_summary in bot.details(first)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "ValidationError" in record.getMessage()

    caplog.clear()
    with session_scope(bot.engine) as session:  # repaired: the next check loads it
        row = session.get(OfferRecord, first)
        assert row is not None
        row.data = good
        session.add(row)
        session.execute(sa.text("UPDATE offer_base_revision SET revision = revision + 1"))
    with caplog.at_level(logging.INFO, logger="bot.offer_refresh"):
        assert bot.refresh.check() is True
    assert NEW_SUMMARY in bot.details(first)
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_an_edit_recreates_a_deleted_revision_row_so_processes_still_notice(bot: Bot) -> None:
    _, offers = bot.results()
    with session_scope(bot.engine) as session:
        session.execute(sa.text("DELETE FROM offer_base_revision"))
    console_edit(bot.engine, offers[0], NEW_SUMMARY)
    assert revision(bot.engine) != bot.service.knowledge.revision
    assert bot.refresh.check() is True
    assert NEW_SUMMARY in bot.details(offers[0])


async def test_a_console_chat_shows_an_edit_made_elsewhere_in_its_next_answer(bot: Bot) -> None:
    """`bildungslotse chat` left open while a partner saves: the refresh the chat started (as `run`
    does, here every 0.1 s) swaps in the new base, and the next offer opened shows the new text."""
    _, offers = bot.results(user="probe")  # the dialog below lists the same offers
    first = offers[0]
    old_summary = bot.service.kb.offers_by_id[first].summary
    refresh = OfferRefresh(bot.service, bot.engine, 0.1)
    out = io.StringIO()
    answers: list[str] = []  # what the chat printed before each line the user types

    def pick(label: str) -> str:
        """The number the latest answer shows for the option `label`, as a user types it."""
        numbers = re.findall(rf"^  (\d+)\) {re.escape(label)}$", answers[-1], re.M)
        assert len(numbers) == 1, (label, answers[-1])
        return str(numbers[0])

    def partner_saves_and_refresh_runs() -> None:
        console_edit(bot.engine, first, NEW_SUMMARY)
        target, deadline = revision(bot.engine), time.monotonic() + 20
        while bot.service.knowledge.revision != target:  # the chat's own refresh thread, nobody else
            assert time.monotonic() < deadline, "the console chat never reloaded the offer base"
            time.sleep(0.05)

    def partner_saves_then_open_the_first() -> str:
        partner_saves_and_refresh_runs()
        return pick(t("de", "option.offer_number", n=1))

    script = iter(
        [
            lambda: "/start",
            lambda: pick(t("de", "situation.beschaeftigt")),
            lambda: pick(t("de", "district.lueneburg")),
            lambda: pick(t("de", "sector.gesundheit")),
            lambda: pick(t("de", "goal.weiterbildung")),
            partner_saves_then_open_the_first,
        ]
    )

    def read(prompt: str) -> str:
        answers.append(out.getvalue()[sum(map(len, answers)) :])
        return next(script, lambda: "exit")()

    await chat(bot.service, "anna", stdout=out, interactive=True, read=read, refresh=refresh)
    results, details = answers[-2], answers[-1]
    assert "Das passt zu Ihnen" in results  # the edit came while the user looked at this page
    assert NEW_SUMMARY in details and old_summary not in details
    assert not refresh.alive()  # stopped with the chat: nothing keeps the process running
