"""The message catalogue: every code has a label, every language has every key and placeholder."""

from __future__ import annotations

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
def test_every_code_has_a_german_label(prefix: str, codes: type) -> None:
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
