"""Which of the bot's languages a free-text message is written in, so people are answered in kind.

Many of the people the network serves (nurses, engineers and drivers from abroad) write English
although their phone says German, or the other way round. The client's language is only a first
guess; what someone writes is better evidence. But a town, a postcode, "ok" or "Pflege" says
nothing about the language a person reads, so short messages never decide: only a message with at
least MIN_WORDS words besides place names and numbers does, and only when the detector is sure.

Detection uses lingua (lingua-language-detector, a maintained library with Rust models) restricted
to German and English and in its low-accuracy mode: that mode uses trigram models only and costs
about 8 MB and 20 ms to load (lazily, on the first text that needs it) against about 100 MB and
0.3 s for the full models, whose extra accuracy is for one- and two-word texts, exactly the ones
left alone here. On short sentences the low-accuracy models err ("Studium ohne Abitur" reads as
English), so there lingua must be backed by a function word that exists in its language only
("the", "my" / "ich", "nicht") and contradicted by none; such words also decide alone when they
all point one way.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal

from knowledge.text import prepare_text, tokenize

if TYPE_CHECKING:
    from lingua import LanguageDetector

    from knowledge.gazetteer import Gazetteer

Language = Literal["de", "en"]

MIN_WORDS = 3  # "Ausbildung in Uelzen", "ok", "21629" never switch the language
CONFIDENCE = 0.8  # lingua's relative confidence needed on its own
# Words that exist in one of the two languages only, normalised (umlauts folded, apostrophes dropped).
_ENGLISH_MARKERS = frozenset(
    [
        "i",
        "im",
        "my",
        "me",
        "the",
        "is",
        "are",
        "am",
        "not",
        "dont",
        "want",
        "need",
        "looking",
        "from",
        "with",
        "have",
        "has",
        "work",
        "working",
        "and",
        "you",
        "this",
        "that",
        "what",
        "where",
        "how",
        "can",
        "could",
        "would",
        "please",
        "thanks",
    ]
)
_GERMAN_MARKERS = frozenset(
    [
        "ich",
        "bin",
        "mein",
        "meine",
        "meinen",
        "habe",
        "hab",
        "nicht",
        "kein",
        "keine",
        "und",
        "ist",
        "suche",
        "moechte",
        "mit",
        "von",
        "der",
        "die",
        "das",
        "auch",
        "aber",
        "wohne",
        "arbeite",
        "bitte",
        "danke",
    ]
)
_MARKERS_NEEDED = 2  # marker words that decide alone when lingua is unsure (or contradicted)
_LONG = 6  # from this many words lingua may decide without a marker word agreeing


@functools.cache
def _detector() -> LanguageDetector:
    from lingua import Language as Lingua
    from lingua import LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_languages(Lingua.GERMAN, Lingua.ENGLISH).with_low_accuracy_mode().build()
    )


def detect_language(text: str, gazetteer: Gazetteer | None = None) -> Language | None:
    """ "en" or "de" when the message clearly is English or German, else None (keep the language).

    Place names and numbers are left out first (with `gazetteer`): "I work in Winsen" is English
    even though "Winsen" looks German, and "Buchholz 21244" is no language at all.
    """
    prepared = prepare_text(text)
    tokens = tokenize(prepared)
    if gazetteer is not None:
        spans = [(p.start, p.end) for p in gazetteer.match_tokens(prepared, tokens)]
        tokens = [t for t in tokens if not any(start <= t.start < end for start, end in spans)]
    words = [t for t in tokens if t.norm.isalpha() and len(t.norm) >= 1]
    if len(words) < MIN_WORDS:
        return None
    sample = " ".join(t.raw for t in words)
    confidences = {c.language.name: c.value for c in _detector().compute_language_confidence_values(sample)}
    norms = {t.norm for t in words}
    markers: dict[Language, int] = {
        "en": len(norms & _ENGLISH_MARKERS),
        "de": len(norms & _GERMAN_MARKERS),
    }
    pick: Language | None = None
    if confidences.get("ENGLISH", 0.0) >= CONFIDENCE:
        pick = "en"
    elif confidences.get("GERMAN", 0.0) >= CONFIDENCE:
        pick = "de"
    if pick is not None:
        other: Language = "de" if pick == "en" else "en"
        if markers[pick] >= 1 and markers[other] == 0:
            return pick
        if len(words) >= _LONG and markers[other] <= markers[pick]:
            return pick
    if markers["en"] >= _MARKERS_NEEDED and markers["de"] == 0:
        return "en"
    if markers["de"] >= _MARKERS_NEEDED and markers["en"] == 0:
        return "de"
    return None
