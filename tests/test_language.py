"""Language detection on free text: clear sentences decide, short or ambiguous texts never do."""

from __future__ import annotations

import pytest

from knowledge.gazetteer import Gazetteer
from knowledge.language import detect_language
from tests.test_understanding import CASES
from tests.understanding_table import CATEGORIES


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I am a nurse from the Philippines living in Buchholz, my degree is not recognised yet", "en"),
        ("i want to retrain as a nurse", "en"),
        ("I work in Winsen", "en"),  # the German-looking town does not count
        ("Ich komme aus Syrien. Ich bin Elektriker.", "de"),
        ("ich suche arbeit in lüneburg", "de"),
        ("ok", None),
        ("Buchholz", None),
        ("21629", None),
        ("Ausbildung in Lüneburg", None),
        ("Lüneburg 21335 Adendorf", None),
        ("Studium ohne Abitur", None),  # lingua alone would call this English
        ("yes please", None),
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text, Gazetteer.bundled()) == language


def test_no_row_of_the_phrasing_table_is_read_in_the_wrong_language() -> None:
    gaz = Gazetteer.bundled()
    english = [detect_language(text, gaz) for text, _ in CATEGORIES["english"]]
    german = [detect_language(text, gaz) for text, _ in [*CATEGORIES["simple_german"], *CASES]]
    assert "de" not in english and "en" not in german
    assert english.count("en") >= 0.7 * len(english)  # the rest are short and keep the language
