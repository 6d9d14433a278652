"""The console chat (`bildungslotse chat`) speaks the conversation's language to the end."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.console import chat
from bot.conversation import ConversationService
from db.engine import make_engine
from knowledge.base import KnowledgeBase


@pytest.mark.parametrize(
    ("first", "goodbye"),
    [("Ich suche eine Weiterbildung", "Auf Wiedersehen!"), ("I am looking for further training", "Goodbye!")],
)
async def test_the_goodbye_is_in_the_language_the_person_wrote_in(
    sqlite_url: str, kb: KnowledgeBase, first: str, goodbye: str
) -> None:
    engine = make_engine(sqlite_url)
    lines: Iterator[str] = iter([first, "exit"])

    def read(prompt: str) -> str:
        return next(lines)

    out = io.StringIO()
    await chat(ConversationService(engine, kb), "sam", stdout=out, interactive=True, read=read)
    engine.dispose()
    assert out.getvalue().splitlines()[-1] == goodbye
