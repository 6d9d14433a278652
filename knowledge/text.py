"""The text toolkit of the free-text readers (place names in knowledge.gazetteer, dialog slots in
knowledge.understanding): one normalisation, one tokeniser, one n-gram scan and one typo rule.

Both readers look up the same message, so they must agree on what a word is ("Lüneburg",
"LUENEBURG" and "Lueneburg" are one word; emoji and punctuation separate words), where a word
starts (offsets into one cleaned text), and which misspellings are believable. Keeping these in
one module is what makes "a lexicon term is never read as a place" checkable at all.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel, Levenshtein

# Only the start of a message is examined: long pastes are rare, and the cost must stay bounded.
MAX_CHARS = 500

T = TypeVar("T")

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_TOKEN_RE = re.compile(r"[^\W_]+")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a message: `norm` is for matching, `raw`/offsets are for showing and casing."""

    norm: str
    raw: str
    start: int
    end: int


# --- normalising and tokenising ----------------------------------------------------------------


def normalize_word(word: str) -> str:
    """Fold case, umlauts, ß and accents so 'Lüneburg', 'LUENEBURG' and 'Lueneburg' compare equal."""
    folded = word.lower().translate(_FOLD)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_phrase(phrase: str) -> str:
    """A phrase as space-joined normalised tokens, the key format of every lookup table."""
    return " ".join(normalize_word(m.group()) for m in _TOKEN_RE.finditer(_clean(phrase)))


def normalize_words(words: Iterable[str]) -> frozenset[str]:
    """A word list from a data file as a set of normalised keys."""
    return frozenset(normalize_phrase(w) for w in words)


def _clean(text: str) -> str:
    """Bound the length and drop control/format characters (RTL marks, NULs) before tokenising."""
    text = unicodedata.normalize("NFC", text[: MAX_CHARS * 2])[:MAX_CHARS]
    if text.isascii() and text.isprintable():
        return text
    return "".join(" " if unicodedata.category(c) in _CONTROL_CATEGORIES else c for c in text)


def prepare_text(text: str) -> str:
    """The cleaned, truncated text all token offsets refer to ("" for anything but a string)."""
    if not isinstance(text, str):
        return ""
    return _clean(text)


def tokenize(text: str) -> list[Token]:
    """Tokens of already prepared text (see prepare_text); punctuation and emoji separate words."""
    return [Token(normalize_word(m.group()), m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


# --- n-grams ------------------------------------------------------------------------------------


def longest_ngram(
    words: Sequence[str], pos: int, max_size: int, lookup: Callable[[str, int], T | None]
) -> tuple[int, T] | None:
    """The longest phrase starting at `pos` that `lookup(key, size)` accepts, as (size, value).

    The key is the space-joined words; `lookup` may refuse a phrase by returning None (context
    rules such as "not before 'Straße'"), and a shorter phrase is tried next.
    """
    for size in range(min(max_size, len(words) - pos), 0, -1):
        value = lookup(" ".join(words[pos : pos + size]), size)
        if value is not None:
            return size, value
    return None


def max_ngram(keys: Iterable[str]) -> int:
    """The word count of the longest key (at least 1)."""
    return max((k.count(" ") + 1 for k in keys), default=1)


# --- typos -------------------------------------------------------------------------------------


def max_edits(length: int) -> int:
    """Upper bound of typos considered for a word of this length (see plausible_typo)."""
    if length < 6:
        return 0
    if length <= 8:
        return 1
    if length <= 12:
        return 2
    return 3


def plausible_typo(query: str, choice: str) -> bool:
    """Whether `query` is a believable misspelling of `choice`.

    German is dense with short words one letter apart ("fahren"/"Fahrer", "Kuchen"/"kochen"), so
    words of up to 8 letters may only lose, gain or swap a letter, not have one replaced; longer
    words get more room. Words under 5 letters never count as typos.
    """
    shortest = min(len(query), len(choice))
    if shortest < 5 or query == choice:
        return False
    if shortest <= 8:
        if Indel.distance(query, choice, score_cutoff=1) <= 1:
            return True
        return OSA.distance(query, choice, score_cutoff=1) == 1 and Levenshtein.distance(query, choice) == 2
    if shortest <= 12:
        return (
            OSA.distance(query, choice, score_cutoff=1) <= 1
            or Indel.distance(query, choice, score_cutoff=2) <= 2
        )
    return OSA.distance(query, choice, score_cutoff=2) <= 2


def best_typo_match(query: str, choices: Sequence[str]) -> tuple[str, float] | None:
    """The closest choice that `query` plausibly misspells, with a 0–100 similarity score."""
    if len(query) < 5 or not choices:
        return None
    cutoff = max_edits(len(query) + 1)
    if cutoff == 0:
        return None
    if cutoff == 1:
        cutoff = 2  # a swapped pair ("restrat") is two Levenshtein edits; plausible_typo decides
    for key, dist, _ in process.extract(
        query, choices, scorer=Levenshtein.distance, processor=None, score_cutoff=cutoff, limit=3
    ):
        if plausible_typo(query, key):
            return key, round(100.0 * (1 - int(dist) / max(len(query), len(key))), 1)
    return None


class TypoIndex:
    """Phrases that may be found misspelt, bucketed by word count and first letter.

    A typo in the first letter is rare and comparing against every phrase is what costs, so a
    query is only compared with phrases of its own bucket; answers are cached because chats
    repeat the same words.
    """

    def __init__(self, keys: Iterable[str], cache_size: int = 4096) -> None:
        self._buckets: dict[tuple[int, str], list[str]] = {}
        for key in keys:
            if key:
                self._buckets.setdefault((key.count(" ") + 1, key[0]), []).append(key)
        self.lookup = functools.lru_cache(maxsize=cache_size)(self._lookup)

    def _lookup(self, query: str, size: int) -> tuple[str, float] | None:
        """(phrase, score) that the `size`-word `query` plausibly misspells, or None."""
        if not query:
            return None
        return best_typo_match(query, self._buckets.get((size, query[0]), ()))
