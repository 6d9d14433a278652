"""The message catalogue: every code has a label, every language has every key and placeholder."""

from __future__ import annotations

from enum import StrEnum

import pytest

from handlers.catalogue import LANGUAGES, messages, normalise_language, placeholders, t
from knowledge.vocabulary import District, Goal, Sector, Situation


@pytest.mark.parametrize(
    ("prefix", "codes"),
    [
        ("situation", Situation),
        ("audience", Situation),
        ("district", District),
        ("sector", Sector),
        ("goal", Goal),
    ],
)
def test_every_code_has_a_german_label(prefix: str, codes: type[StrEnum]) -> None:
    for code in codes:
        assert t("de", f"{prefix}.{code.value}")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "de"])
def test_translations_cover_every_key_with_the_same_placeholders(language: str) -> None:
    german, other = messages("de"), messages(language)
    missing = sorted(set(german) - set(other))
    assert not missing, f"{language} lacks {missing[:10]}"
    for key, text in german.items():
        assert placeholders(other[key]) == placeholders(text), key


def test_client_language_hints_map_to_catalogue_languages() -> None:
    assert normalise_language("en-GB") == "en"
    assert normalise_language("de_AT") == "de"
    assert normalise_language("tr") == "de"
    assert normalise_language(None) == "de"


# Texts that are the same in both languages on purpose: layouts, names and the bilingual question.
SAME_IN_BOTH = {
    "understood.separator",
    "offer.details",
    "contact.line",
    "reason.situation",
    "option.details",
    "profile.line",
    "language.choose",
    "language.name.de",
    "language.name.en",
    "option.abo_topic_on",
    "events.where_online",
    "events.card",
    "courses.online",
    "answered",
    "courses.town_km",
}


def test_the_english_catalogue_has_exactly_the_german_keys_and_is_translated() -> None:
    german, english = messages("de"), messages("en")
    assert sorted(set(english) - set(german)) == []  # no stale English-only texts
    assert sorted(set(german) - set(english)) == []
    untranslated = sorted(k for k in german if german[k] == english[k] and k not in SAME_IN_BOTH)
    assert untranslated == []


@pytest.mark.parametrize("prefix", ["ask.", "results.", "privacy.", "events.", "abo.", "admin.", "reminder."])
def test_english_texts_contain_no_german_words(prefix: str) -> None:
    """A left-over German sentence in the English catalogue shows up by its function words."""
    german_words = {"und", "Sie", "Ihre", "Ihnen", "bitte", "nicht", "oder", "wird", "werden", "mit"}
    for key, text in messages("en").items():
        if key.startswith(prefix):
            words = set(text.replace(",", " ").replace(".", " ").split())
            assert not words & german_words, (key, words & german_words)
