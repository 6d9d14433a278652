"""The privacy notice promises that the wording of messages is not stored: check every table.

Names, health words, phone numbers and e-mail addresses go through the full service (all
features, a real database) at every step of the dialog; afterwards no column of any table, found
by introspecting the schema, may contain them. Keyword ranking keeps working with the catalogue's
own terms.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Unpack

import pytest
import sqlalchemy as sa

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.engine import make_engine
from handlers.turn import TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import TurnFields, make_turn

PERSONAL = [
    "Schmidtbauer",
    "Diagnose",
    "Depression",
    "0151 23456789",
    "23456789",
    "+49 4131 123456",
    "4131 123456",
    "123456",
    "max.mustermann@example.org",
    "mustermann",
    "example.org",
]
MESSAGES = [
    "Hallo, mein Name ist Schmidtbauer, Diagnose Depression, ich suche eine Umschulung",
    "Rufen Sie mich an: 0151 23456789 oder +49 4131 123456",
    "Meine E-Mail: max.mustermann@example.org – Schmidtbauer",
    "Diagnose Depression, trotzdem Weiterbildung in der Pflege?",
]


@pytest.fixture
def service(database_url: str, kb: KnowledgeBase) -> Iterator[tuple[ConversationService, sa.Engine]]:
    settings = load_settings(_env_file=None, admin_ids="console:admin", flood_max_messages=1_000_000)
    engine = make_engine(database_url)
    yield ConversationService(engine, kb, feature_settings(settings), build_features()), engine
    engine.dispose()


def stored_text(engine: sa.Engine) -> str:
    """Every value of every column of every table, as one lowercase text."""
    inspector = sa.inspect(engine)
    metadata = sa.MetaData()
    parts: list[str] = []
    with engine.connect() as conn:
        for name in inspector.get_table_names():
            table = sa.Table(name, metadata, autoload_with=conn)
            for row in conn.execute(sa.select(table)):
                for value in row:
                    if value is None:
                        continue
                    parts.append(
                        value
                        if isinstance(value, str)
                        else json.dumps(value, ensure_ascii=False, default=str)
                    )
    return "\n".join(parts).lower()


def test_no_table_keeps_names_health_words_phone_numbers_or_addresses(
    service: tuple[ConversationService, sa.Engine],
) -> None:
    svc, engine = service

    def send(kind: TurnKind, **kw: Unpack[TurnFields]) -> None:
        svc.handle_sync(make_turn("console", "u1", kind, **kw))

    send(TurnKind.COMMAND, command="start")
    for text in MESSAGES:  # while the bot asks its questions
        send(TurnKind.TEXT, text=text)
    for option in ("sit:arbeitsuchend", "dist:lueneburg", "sec:gesundheit", "goal:umschulung"):
        send(TurnKind.OPTION, option_id=option)
    for text in MESSAGES:  # and on the results, where words re-rank the offers
        send(TurnKind.TEXT, text=text)
    send(TurnKind.COMMAND, command="meinedaten")

    stored = stored_text(engine)
    found = [p for p in PERSONAL if p.lower() in stored]
    assert found == [], f"stored although the privacy notice says messages are not: {found}"
    assert "arbeitsuchend" in stored  # the scan does see the conversation
    assert "umschulung" in stored  # a catalogue keyword from the messages is kept for ranking


def test_catalogue_keywords_from_a_message_still_rank_and_explain(kb: KnowledgeBase) -> None:
    from tests.dialog_driver import DialogDriver

    user = DialogDriver(kb)
    user.command("start")
    for option in ("sit:ausland", "dist:harburg", "sec:unbekannt", "goal:anerkennung"):
        user.option(option)
    user.text("Mein Name ist Schmidtbauer, gibt es einen Zuschuss?")
    assert user.state.keywords == ["zuschuss"]
    assert "passt zu „zuschuss“" in user.text_out


def test_upgrading_forgets_message_words_an_older_version_stored(tmp_path: Path) -> None:
    from db import migrate

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0005")
    engine = make_engine(url)
    old_state = {"version": 1, "step": "results", "keywords": ["schmidtbauer", "depression"], "page": 2}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, transport, external_id, language, active, created_at, last_seen_at)"
                " VALUES (1, 'console', 'u', 'de', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text("INSERT INTO conversations (user_id, state, updated_at) VALUES (1, :s, '2026-01-01')"),
            {"s": json.dumps(old_state)},
        )
    migrate.upgrade(url)
    assert "schmidtbauer" not in stored_text(engine) and "depression" not in stored_text(engine)
    with engine.connect() as conn:
        state = json.loads(conn.execute(sa.text("SELECT state FROM conversations")).scalar_one())
    assert state == {**old_state, "keywords": []}
    engine.dispose()


async def test_messages_through_telegram_leave_none_of_their_words(
    database_url: str, kb: KnowledgeBase
) -> None:
    from tests.telegram_standin import BotApiStandIn
    from tests.test_telegram_e2e import running_bot, wait_button

    chat = 4711
    engine = make_engine(database_url)
    async with BotApiStandIn() as api, running_bot(api, engine, kb):
        api.user_text(chat, "/start")
        await wait_button(api, chat, "sit:")
        for text in MESSAGES:
            before = len(api.messages(chat))
            api.user_text(chat, text)

            def answered(before: int = before) -> bool | None:
                return len(api.messages(chat)) > before or None

            await api.wait_for(answered)
    stored = stored_text(engine)
    engine.dispose()
    assert [p for p in PERSONAL if p.lower() in stored] == []
    assert "umschulung" in stored
