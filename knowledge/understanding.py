"""Free-text understanding: turn one chat message into dialog slots.

People answer the bot's questions in their own words, often several at once ("Ich bin Dachdecker
aus Winsen und will meinen Meister machen"). Filling every slot we can from such a message saves
them questions; recognising nothing is always safe because the dialog then simply asks. So the
rules prefer a missed slot over a wrong one: typo tolerance only for longer words, place names
that are ordinary words only in place context, and negated phrases ("nicht arbeitslos") dropped.

Many people the network serves write English or simple German ("ich habe zeugnis von schule in
syrien"), so the same rules read both: data/lexicon.yaml holds German, data/lexicon_en.yaml English
and learner phrasings, merged into one table. A situation is weighed from all the evidence in a
message, not taken from its first keyword (see _pick_situation): "Betrieb in 21629" is where
someone works, "wir sind ein Betrieb" is an employer, a foreign country makes "Schule" the name of
a certificate. When two readings stay level, the message yields an either/or pair for the dialog
to ask instead of a guess.

The vocabulary is data, editable without touching code; this module compiles it once into lookup
tables so a typical message costs well under a millisecond.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml

from knowledge.gazetteer import SAFE_LOADER, Gazetteer, PlaceMatch
from knowledge.text import (
    Token,
    TypoIndex,
    best_typo_match,
    longest_ngram,
    max_ngram,
    normalize_phrase,
    normalize_word,
    prepare_text,
    tokenize,
)
from knowledge.vocabulary import District, Goal, Sector, Situation

log = logging.getLogger(__name__)

Intent = Literal["back", "restart", "help", "cancel", "more", "yes", "no"]
INTENTS: tuple[Intent, ...] = ("back", "restart", "help", "cancel", "more", "yes", "no")

# Tie-breaks when a message names several situations/goals. Employers first (their questions
# differ most); within goals the more specific wish beats generic "Förderung"/"Beratung".
SITUATION_PRIORITY: tuple[Situation, ...] = (
    Situation.BETRIEB,
    Situation.AUSLAND,
    Situation.WIEDEREINSTIEG,
    Situation.ARBEITSUCHEND,
    Situation.SCHULE,
    Situation.BESCHAEFTIGT,
)
GOAL_PRIORITY: tuple[Goal, ...] = (
    Goal.ANERKENNUNG,
    Goal.GEWINNEN,
    Goal.QUALIFIZIEREN,
    Goal.AUFSTIEG,
    Goal.UMSCHULUNG,
    Goal.STUDIUM,
    Goal.AUSBILDUNG,
    Goal.WEITERBILDUNG,
    Goal.FOERDERUNG,
    Goal.BERATUNG,
)
# An employer who says "Weiterbildung" means qualifying staff, "Ausbildung" means apprentices.
_EMPLOYER_GOAL: dict[Goal, Goal] = {
    Goal.WEITERBILDUNG: Goal.QUALIFIZIEREN,
    Goal.AUFSTIEG: Goal.QUALIFIZIEREN,
    Goal.UMSCHULUNG: Goal.QUALIFIZIEREN,
    Goal.AUSBILDUNG: Goal.GEWINNEN,
    Goal.STUDIUM: Goal.GEWINNEN,
}

STRONG, WEAK = 2, 1
_SHORT_MESSAGE_TOKENS = 6
_MAX_KEYWORDS = 20
_TARGET_CUES = {
    "zum": 2,
    "zur": 2,
    "richtung": 2,
    "wechseln": 2,
    "als": 1,
    "become": 2,
    "into": 2,
    "switch": 2,
    "change": 2,
    "as": 1,
    "to": 1,
}
_RESIDENCE_CUES = frozenset(
    {"wohne", "wohnen", "wohnort", "lebe", "leben", "zuhause", "daheim", "aus", "komme"}
    | {"live", "living", "lives", "from", "based", "stay", "staying", "home"}
)
_SELF_CUES = frozenset({"bin", "am", "m"})  # "ich bin", "I am", "I'm"
_SELF_WORDS = frozenset({"ich", "i"})  # right before the job: "ich elektriker", "i electrician"
# Prepositions that turn a country into a hint at a foreign qualification ("aus Syrien", "from Syria").
_COUNTRY_PREPOSITIONS = {"countries": ("aus", "in"), "countries_en": ("from", "in")}
_LEXICON_FILES = ("lexicon.yaml", "lexicon_en.yaml")
_CATEGORIES = ("sector", "situation", "goal")


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one message told us. None means "not said", never "said no"."""

    situation: Situation | None = None
    district: District | None = None
    sector: Sector | None = None
    goal: Goal | None = None
    place: str | None = None  # municipality (or outside city) recognised, for confirmations
    place_candidates: tuple[tuple[str, District], ...] = ()  # set when a name is ambiguous
    keywords: tuple[str, ...] = ()  # content words, for this turn only: never store them (search_terms)
    intent: Intent | None = None
    outside: bool = False
    postcode: str | None = None  # the five-digit postcode given, if any
    # two situations the message supports equally well ("mein Betrieb … ich bin Chef"?): the dialog
    # asks one either/or question instead of guessing; `situation` stays None then
    situation_choice: tuple[Situation, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            not (self.situation or self.district or self.sector or self.goal or self.place_candidates)
            and self.intent is None
            and not self.outside
            and not self.situation_choice
        )


# ---------------------------------------------------------------------------------------------
# Compiled lexicon
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a word or phrase contributes; `suppress` lists slots a phrase explicitly blanks."""

    label: str
    sector: Sector | None = None
    situation: Situation | None = None
    strength: int = 0
    goal: Goal | None = None
    occupation: bool = False
    business: bool = False
    outside: int = 0  # 2 = always, 1 = only in a short answer
    suppress: frozenset[str] = frozenset()
    qualification: bool = False  # names a certificate or training ("Zeugnis", "Schule", "degree")
    short_only: bool = False  # its situation counts only when it is the whole answer ("Betrieb")

    def merged(self, other: Meaning) -> Meaning:
        """self wins for every slot it sets or suppresses; other fills the rest."""

        def pick(cat: str) -> tuple[Any, bool]:
            if getattr(self, cat) is not None or cat in self.suppress:
                return getattr(self, cat), cat in self.suppress
            return getattr(other, cat), cat in other.suppress

        sector, s1 = pick("sector")
        situation, s2 = pick("situation")
        goal, s3 = pick("goal")
        own_situation = self.situation is not None or "situation" in self.suppress
        strength = self.strength if own_situation else other.strength
        short_only = self.short_only if own_situation else other.short_only
        suppress = frozenset(c for c, s in zip(_CATEGORIES, (s1, s2, s3), strict=True) if s)
        return Meaning(
            label=self.label,
            sector=sector,
            situation=situation,
            strength=strength,
            goal=goal,
            occupation=self.occupation or other.occupation,
            business=self.business or other.business,
            outside=max(self.outside, other.outside),
            suppress=suppress,
            qualification=self.qualification or other.qualification,
            short_only=short_only,
        )


@dataclass(slots=True)
class _Hit:
    meaning: Meaning
    first: int  # index into the message's token list
    last: int
    fuzzy: bool = False
    negated: bool = False


@dataclass(slots=True, eq=False)
class Lexicon:
    """The compiled lexicon: exact phrase table, word-start/word-end tables and fuzzy buckets."""

    fillers: frozenset[str]
    negators: frozenset[str]
    stopwords: frozenset[str]
    we_words: frozenset[str]
    known_words: frozenset[str]
    exact: dict[str, Meaning] = field(default_factory=dict)
    prefixes: dict[str, Meaning] = field(default_factory=dict)
    suffixes: dict[str, Meaning] = field(default_factory=dict)
    intents: dict[str, Intent] = field(default_factory=dict)
    intent_fillers: frozenset[str] = frozenset()
    negation_bridges: frozenset[str] = frozenset()
    capitals_only: frozenset[str] = frozenset()
    glued: set[str] = field(default_factory=set)
    intent_words: tuple[str, ...] = ()
    max_ngram: int = 1
    typos: TypoIndex = field(default_factory=lambda: TypoIndex(()))

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Lexicon:
        words = lambda key: frozenset(normalize_word(w) for w in raw.get(key, []))  # noqa: E731
        lex = cls(
            fillers=words("fillers"),
            negators=words("negators"),
            stopwords=words("stopwords"),
            we_words=words("we_words"),
            known_words=frozenset(),
            intent_fillers=frozenset(normalize_phrase(w) for w in raw.get("intent_fillers", [])),
            negation_bridges=words("negation_bridges"),
            capitals_only=words("capitals_only"),
        )
        entries: list[tuple[str, Meaning]] = []

        for sector_code, groups in raw.get("sectors", {}).items():
            sector = Sector(sector_code)
            for pattern in groups.get("occupations", []):
                entries.append((pattern, Meaning(pattern, sector=sector, occupation=True)))
            for pattern in groups.get("terms", []):
                entries.append((pattern, Meaning(pattern, sector=sector)))
        for situation_code, groups in raw.get("situations", {}).items():
            situation = Situation(situation_code)
            for strength_name, strength in (("strong", STRONG), ("weak", WEAK)):
                for pattern in groups.get(strength_name) or []:
                    entries.append((pattern, Meaning(pattern, situation=situation, strength=strength)))
            for pattern in groups.get("short") or []:
                meaning = Meaning(pattern, situation=situation, strength=WEAK, short_only=True)
                entries.append((pattern, meaning))
        for goal_code, patterns in raw.get("goals", {}).items():
            for pattern in patterns:
                entries.append((pattern, Meaning(pattern, goal=Goal(goal_code))))
        for combo in raw.get("combos", []):
            for pattern in combo["phrases"]:
                entries.append((pattern, _combo_meaning(pattern, combo)))
        for pattern in raw.get("neutral", []):
            entries.append((pattern, Meaning(pattern)))
        for pattern in raw.get("business_nouns", []):
            entries.append((pattern, Meaning(pattern, business=True)))
        for key, prepositions in _COUNTRY_PREPOSITIONS.items():
            for country in raw.get(key, []):
                for prep in prepositions:
                    phrase = f"{prep} {country}"
                    entries.append((phrase, Meaning(phrase, situation=Situation.AUSLAND, strength=WEAK)))
        for key in ("nationalities", "nationalities_en"):
            for pattern in raw.get(key, []):
                entries.append((pattern, Meaning(pattern, situation=Situation.AUSLAND, strength=WEAK)))
        for pattern in raw.get("qualification_words", []):
            entries.append((pattern, Meaning(pattern, qualification=True)))
        outside = raw.get("outside", {})
        for level, key in ((2, "phrases"), (1, "short")):
            for pattern in outside.get(key, []):
                entries.append((pattern, Meaning(pattern, outside=level)))

        for pattern, meaning in entries:
            lex._add(pattern, meaning)
        lex._inherit()

        for intent, phrases in raw.get("intents", {}).items():
            if intent not in INTENTS:
                raise ValueError(f"lexicon: unknown intent {intent!r}")
            for phrase in phrases:
                lex.intents.setdefault(normalize_phrase(str(phrase)), intent)
        lex.intent_words = tuple(k for k in lex.intents if " " not in k and len(k) >= 5)

        lex.max_ngram = max_ngram(lex.exact)
        # Glued-together variants ("kfzmechatroniker") are for exact look-up only: as typo
        # targets they attract unrelated words ("ausserbien" ~ "aussterben").
        lex.typos = TypoIndex(
            (k for k in lex.exact if len(k.replace(" ", "")) >= 6 and k not in lex.glued), cache_size=8192
        )
        vocabulary = {w for k in lex.exact for w in k.split()}
        vocabulary |= set(lex.prefixes) | set(lex.suffixes)
        vocabulary |= {w for k in lex.intents for w in k.split()}
        vocabulary |= {normalize_word(w) for w in raw.get("common_words", [])}
        lex.known_words = frozenset(vocabulary) | lex.stopwords | lex.fillers | lex.negators | lex.we_words
        return lex

    def _key(self, phrase: str) -> str:
        return " ".join(w for w in normalize_phrase(phrase).split() if w not in self.fillers)

    def _add(self, pattern: str, meaning: Meaning) -> None:
        pattern = pattern.strip()
        if pattern.endswith("*") or pattern.startswith("*"):
            stem = normalize_phrase(pattern.strip("*")).replace(" ", "")
            if len(stem) < 4:
                raise ValueError(f"lexicon: affix pattern {pattern!r} is shorter than 4 letters")
            table = self.prefixes if pattern.endswith("*") else self.suffixes
            table[stem] = table[stem].merged(meaning) if stem in table else meaning
            if pattern.endswith("*"):
                self._merge_exact(stem, meaning)  # the bare stem is a word too ("Pflege")
            return
        key = self._key(pattern)
        if not key:
            raise ValueError(f"lexicon: pattern {pattern!r} consists of filler words only")
        self._merge_exact(key, meaning)
        if " " in key:  # "KFZ-Mechatroniker" is also typed as one word
            glued = key.replace(" ", "")
            if glued not in self.exact:
                self.glued.add(glued)
            self._merge_exact(glued, meaning)

    def _merge_exact(self, key: str, meaning: Meaning) -> None:
        self.exact[key] = self.exact[key].merged(meaning) if key in self.exact else meaning

    def _affix(self, word: str) -> Meaning | None:
        """Meaning from the longest known word start, completed by the longest known word end."""
        found: Meaning | None = None
        for k in range(len(word) - 1, 3, -1):
            m = self.prefixes.get(word[:k])
            if m is not None:
                found = m
                break
        for k in range(len(word) - 1, 3, -1):
            m = self.suffixes.get(word[-k:])
            if m is not None:
                found = m if found is None else found.merged(m)
                break
        return found

    def _inherit(self) -> None:
        """Let phrases and compound words carry the meanings of their parts unless they override."""
        resolved: dict[str, Meaning] = {}
        for key, meaning in self.exact.items():
            parts = key.split()
            if len(parts) == 1:
                affix = self._affix(key)
                resolved[key] = meaning.merged(affix) if affix is not None else meaning
                continue
            # "gehe zur Schule" is about going to school, not about a certificate named "Schule"
            own_qualification = meaning.qualification or meaning.situation is None
            i = 0
            while i < len(parts):
                for size in range(len(parts) - i, 0, -1):
                    if size == len(parts):
                        continue
                    sub = " ".join(parts[i : i + size])
                    part = self.exact.get(sub) or (self._affix(sub) if size == 1 else None)
                    if part is not None and part.short_only:  # "am chef" is no short answer "Chef"
                        part = dataclasses.replace(part, situation=None, strength=0, short_only=False)
                    if part is not None:
                        meaning = meaning.merged(part)
                        i += size
                        break
                else:
                    i += 1
            if not own_qualification:
                meaning = dataclasses.replace(meaning, qualification=False)
            resolved[key] = meaning
        self.exact = resolved

    # -- matching -------------------------------------------------------------------------------

    def match(self, tokens: Sequence[Token], blocked: Sequence[bool]) -> list[_Hit]:
        """Phrases of the lexicon in the tokens not already used by places (exact, affix, typo)."""
        stream = [i for i, t in enumerate(tokens) if t.norm not in self.fillers and not t.norm.isdigit()]
        words = [tokens[i].norm for i in stream]
        hits: list[_Hit] = []
        used: set[int] = set()
        pos = 0
        while pos < len(stream):
            i = stream[pos]
            if blocked[i]:
                pos += 1
                continue
            hit_size = 0
            exact_here = functools.partial(self._exact_at, stream, pos, blocked)
            found = longest_ngram(words, pos, self.max_ngram, exact_here)
            if found is not None:
                hit_size, meaning = found
                hits.append(_Hit(meaning, i, stream[pos + hit_size - 1]))
            else:
                word = tokens[i].norm
                affix = self._affix(word) if len(word) >= 5 else None
                if affix is not None:
                    hits.append(_Hit(affix, i, i))
                    hit_size = 1
            if hit_size:
                used.update(stream[pos : pos + hit_size])
                pos += hit_size
            else:
                pos += 1

        # Typos, only over words nothing else explained.
        pos = 0
        while pos < len(stream):
            i = stream[pos]
            if i in used or blocked[i] or tokens[i].norm in self.known_words:
                pos += 1
                continue
            hit = self._fuzzy_at(tokens, stream, pos, used, blocked)
            if hit is None:
                pos += 1
                continue
            hits.append(hit[0])
            pos += hit[1]
        hits.sort(key=lambda h: h.first)
        for h in hits:
            h.negated = self._negated(tokens, h)
        return hits

    def _exact_at(
        self, stream: Sequence[int], pos: int, blocked: Sequence[bool], key: str, size: int
    ) -> Meaning | None:
        """The meaning of the `size`-word phrase `key` at stream position `pos` ("KFZ Mechatroniker"
        also as "kfzmechatroniker"), unless a place already took one of its words."""
        if any(blocked[j] for j in stream[pos : pos + size]):
            return None
        meaning = self.exact.get(key)
        if meaning is None and size > 1 and key.rsplit(" ", 1)[-1] not in self.stopwords:
            # "KFZ Mechatroniker" typed apart; but "chef in" is no "Chefin"
            meaning = self.exact.get(key.replace(" ", ""))
        return meaning

    def _fuzzy_at(
        self,
        tokens: Sequence[Token],
        stream: Sequence[int],
        pos: int,
        used: set[int],
        blocked: Sequence[bool],
    ) -> tuple[_Hit, int] | None:
        for size in range(min(self.max_ngram, len(stream) - pos), 0, -1):
            window = stream[pos : pos + size]
            if any(j in used or blocked[j] for j in window):
                continue
            query = " ".join(tokens[j].norm for j in window)
            if len(query) < 5 or (size > 1 and tokens[window[-1]].norm in self.known_words):
                continue
            hit = self.typos.lookup(query, size)
            if hit is not None:
                return _Hit(self.exact[hit[0]], window[0], window[-1], fuzzy=True), size
        return None

    def _negated(self, tokens: Sequence[Token], hit: _Hit) -> bool:
        """'nicht arbeitslos', 'ohne Abitur', 'keine Umschulung' (fillers in between are skipped)."""
        if hit.meaning.label.split(" ", 1)[0].lower() in self.negators:
            return False  # the phrase itself carries the negation ("keine Ahnung")
        j = hit.first - 1
        while j >= 0 and (tokens[j].norm in self.fillers or tokens[j].norm in self.negation_bridges):
            j -= 1
        return j >= 0 and tokens[j].norm in self.negators

    def intent_of(self, text: str, tokens: Sequence[Token]) -> Intent | None:
        words = [t.norm for t in tokens if t.norm not in self.intent_fillers]
        if not words:
            if "?" in text:
                return "help"
            if "👍" in text:
                return "yes"
            if "👎" in text:
                return "no"
            return None
        if len(words) > 6:
            return None
        phrase = " ".join(words)
        intent = self.intents.get(phrase)
        if intent is None and len(words) == 1:
            hit = best_typo_match(phrase, self.intent_words)  # "zurük", "abbrechn"
            if hit is not None and hit[0][:1] == phrase[:1]:
                intent = self.intents[hit[0]]
        return intent


def _combo_meaning(pattern: str, combo: Mapping[str, Any]) -> Meaning:
    suppress = frozenset(c for c in _CATEGORIES if c in combo and combo[c] is None)
    situation = Situation(combo["situation"]) if combo.get("situation") else None
    strength = WEAK if combo.get("strength") == "weak" else STRONG
    return Meaning(
        pattern,
        sector=Sector(combo["sector"]) if combo.get("sector") else None,
        situation=situation,
        strength=strength if situation is not None else 0,
        goal=Goal(combo["goal"]) if combo.get("goal") else None,
        suppress=suppress,
    )


def merge_lexicon_data(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Two lexicon files as one: maps are merged key by key, lists appended (base first)."""
    out: dict[str, Any] = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge_lexicon_data(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = [*old, *value]
        elif value is not None or key not in out:
            out[key] = value
    return out


@functools.cache
def bundled_lexicon() -> Lexicon:
    """The lexicon shipped in knowledge/data, German and English (compiled once per process)."""
    raw: dict[str, Any] = {}
    for name in _LEXICON_FILES:
        text = (resources.files("knowledge") / "data" / name).read_text(encoding="utf-8")
        raw = merge_lexicon_data(raw, yaml.load(text, Loader=SAFE_LOADER))
    return Lexicon.from_mapping(raw)


# ---------------------------------------------------------------------------------------------
# understand()
# ---------------------------------------------------------------------------------------------


def understand(text: str, gazetteer: Gazetteer, lexicon: Lexicon | None = None) -> Understanding:
    """Slots stated in one free-text message. Never raises on odd input; looks at 500 chars at most."""
    try:
        return _understand(text, gazetteer, lexicon or bundled_lexicon())
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # A parsing hiccup must never break a conversation: asking again is always possible. It is
        # still a bug to fix, so the traceback is logged, but never the message (the privacy
        # notice promises that), hence not the exception's text either: it may quote a word.
        log.exception(
            "understanding a message failed with %s; the message is not logged",
            type(exc).__name__,
            exc_info=(type(exc), _redacted(exc), exc.__traceback__),
        )
        return Understanding()


def _redacted(exc: BaseException) -> BaseException:
    """The same kind of exception without its arguments (which may quote the message)."""
    try:
        return type(exc)()
    except Exception:  # a type that needs arguments (UnicodeDecodeError, …)
        return RuntimeError(type(exc).__name__)


def _understand(text: str, gazetteer: Gazetteer, lex: Lexicon) -> Understanding:
    prepared = prepare_text(text)
    tokens = tokenize(prepared)
    intent = lex.intent_of(prepared, tokens)

    places = gazetteer.match_tokens(prepared, tokens, known_words=lex.known_words)
    blocked = [False] * len(tokens)
    for found in places:
        for i, tok in enumerate(tokens):
            if found.start <= tok.start < found.end:
                blocked[i] = True
    all_hits = lex.match(tokens, blocked) if intent is None else []
    hits = [h for h in (_in_context(h, tokens, lex) for h in all_hits if not h.negated) if h is not None]

    district, place, candidates, outside, postcode = _resolve_place(places, tokens)
    short = len(tokens) <= _SHORT_MESSAGE_TOKENS
    if any(h.meaning.outside == 2 or (h.meaning.outside == 1 and short) for h in hits) and (
        district is None or district is District.AUSSERHALB
    ):
        outside = True
        if district is None and not candidates:
            district = District.AUSSERHALB

    situation, choice = _pick_situation(hits, tokens, lex)
    goal = _pick_goal(hits)
    sector = _pick_sector(hits, tokens)
    if situation is Situation.BETRIEB and goal is not None:
        goal = _EMPLOYER_GOAL.get(goal, goal)
    elif situation is Situation.BETRIEB and any(h.meaning.situation is Situation.SCHULE for h in hits):
        goal = Goal.GEWINNEN  # an employer talking about "Azubis" wants to find (or keep) them
    elif situation is None and goal in (Goal.GEWINNEN, Goal.QUALIFIZIEREN):
        situation = Situation.BETRIEB

    return Understanding(
        situation=situation,
        district=district,
        sector=sector,
        goal=goal,
        place=place,
        place_candidates=candidates,
        keywords=_keywords(tokens, blocked, all_hits, lex) if intent is None else (),
        intent=intent,
        outside=outside,
        postcode=postcode,
        situation_choice=choice,
    )


def _in_context(hit: _Hit, tokens: Sequence[Token], lex: Lexicon) -> _Hit | None:
    """A short-answer word ("Betrieb", "company") names a situation only when it is the whole
    answer; inside a sentence ("Betrieb in 21629") it may be where someone works. It still counts
    as a business noun ("wir sind ein Betrieb"). A word that is also common English ("it") counts
    inside a sentence only when written in capitals ("IT")."""
    capitals = hit.first == hit.last and tokens[hit.first].norm in lex.capitals_only
    if not hit.meaning.short_only and not capitals:
        return hit
    ignorable = lex.fillers | lex.intent_fillers
    whole = all(
        hit.first <= i <= hit.last or t.norm in ignorable or t.norm in ("ich", "i", "bin", "am", "m", "wir")
        for i, t in enumerate(tokens)
    )
    if whole:
        return hit
    if capitals:
        return hit if tokens[hit.first].raw.isupper() else None
    meaning = dataclasses.replace(hit.meaning, situation=None, strength=0, short_only=False)
    return _Hit(meaning, hit.first, hit.last, hit.fuzzy, hit.negated)


def _resolve_place(
    places: Sequence[PlaceMatch], tokens: Sequence[Token]
) -> tuple[District | None, str | None, tuple[tuple[str, District], ...], bool, str | None]:
    """(district, place, ambiguous candidates, outside, postcode) from the places mentioned.

    Ambiguous names are narrowed by other mentions ("Barum bei Lüneburg", "Hanstedt 29582");
    where someone lives ("wohne in", "aus") beats where they work.
    """
    postcode = next((p.text for p in places if p.kind == "postcode"), None)
    inside = [p for p in places if p.in_region]
    if not inside:
        outside_hit = next((p for p in places if p.district is District.AUSSERHALB), None)
        if outside_hit is None:
            return None, None, (), False, postcode
        name = outside_hit.text if outside_hit.kind == "outside" else None
        return District.AUSSERHALB, name, (), True, postcode

    known = {p.district for p in inside if p.district is not None}

    def narrowed(p: PlaceMatch) -> tuple[District | None, tuple[Any, ...]]:
        if p.district is not None:
            return p.district, p.candidates
        fitting = tuple(m for m in p.candidates if m.district in known) or p.candidates
        return (fitting[0].district if len({m.district for m in fitting}) == 1 else None), fitting

    def residence(p: PlaceMatch) -> bool:
        idx = next((i for i, t in enumerate(tokens) if t.start >= p.start), 0)
        return any(tokens[j].norm in _RESIDENCE_CUES for j in range(max(0, idx - 3), idx))

    primary = next((p for p in inside if residence(p)), inside[0])
    district, cands = narrowed(primary)
    if district is None:
        names = {m.name for m in cands}
        place = names.pop() if len(names) == 1 else None
        pairs = tuple(dict.fromkeys((m.name, m.district) for m in cands))
        return None, place, pairs, False, postcode
    place = None
    for p in (primary, *inside):  # "21423 Winsen": the name picks one of the postcode's places
        d, c = narrowed(p)
        names = {m.name for m in c}
        if d is district and len(names) == 1:
            place = names.pop()
            break
    return district, place, (), False, postcode


def _pick_situation(
    hits: Sequence[_Hit], tokens: Sequence[Token], lex: Lexicon
) -> tuple[Situation | None, tuple[Situation, ...]]:
    """The situation the evidence supports best, or an either/or pair when two stay level.

    Evidence is weighed, not taken from the first keyword: a foreign country together with a
    certificate or a job ("Zeugnis von Schule in Syrien", "Elektriker aus Syrien") is a foreign
    qualification, and the school words then describe that certificate; somebody who speaks for
    a business ("wir", "Inhaber", "unsere Azubis") talks about apprentices, not as one.
    """
    evidence: dict[Situation, int] = {}

    def add(situation: Situation, strength: int) -> None:
        evidence[situation] = max(evidence.get(situation, 0), strength)

    for h in hits:
        if h.meaning.situation is not None:
            add(h.meaning.situation, h.meaning.strength)
    if any(h.meaning.business for h in hits) and any(t.norm in lex.we_words for t in tokens):
        add(Situation.BETRIEB, STRONG)
    own_job = any(h.meaning.occupation and _said_about_self(tokens, h.first, lex) for h in hits)
    if own_job:
        add(Situation.BESCHAEFTIGT, WEAK)

    if Situation.AUSLAND in evidence:
        qualified = own_job or any(h.meaning.qualification for h in hits)
        if qualified:
            add(Situation.AUSLAND, STRONG)
            if evidence.get(Situation.BESCHAEFTIGT) == WEAK:
                del evidence[Situation.BESCHAEFTIGT]  # "Elektriker aus Syrien": the job is the qualification
        school = [
            h.meaning.strength
            for h in hits
            if h.meaning.situation is Situation.SCHULE and not h.meaning.qualification
        ]
        if Situation.SCHULE in evidence:
            if school:
                evidence[Situation.SCHULE] = max(school)
            else:
                del evidence[Situation.SCHULE]  # "Schule", "Abitur" name the foreign certificate
    if evidence.get(Situation.BETRIEB) == STRONG:
        evidence.pop(Situation.SCHULE, None)  # an employer talking about "Azubis"

    if not evidence:
        return None, ()
    rank = {s: len(SITUATION_PRIORITY) - i for i, s in enumerate(SITUATION_PRIORITY)}
    ranked = sorted(evidence, key=lambda s: (evidence[s], rank[s]), reverse=True)
    if len(ranked) > 1 and evidence[ranked[0]] == evidence[ranked[1]]:
        return None, (ranked[0], ranked[1])
    return ranked[0], ()


def _said_about_self(tokens: Sequence[Token], first: int, lex: Lexicon) -> bool:
    """'ich bin (gelernter) Dachdecker', 'I am a nurse', 'ich Elektriker' -> that is their job;
    'will Dachdecker werden' is not."""
    if first + 1 < len(tokens) and tokens[first + 1].norm in ("werden", "werde", "lernen"):
        return False
    seen = 0
    j = first - 1
    while j >= 0 and seen < 2:
        norm = tokens[j].norm
        if norm in _SELF_CUES or (seen == 0 and norm in _SELF_WORDS):
            return True
        if norm not in lex.fillers and not norm.isdigit():
            seen += 1
        j -= 1
    return False


def _pick_goal(hits: Sequence[_Hit]) -> Goal | None:
    goals = {h.meaning.goal for h in hits if h.meaning.goal is not None}
    return next((g for g in GOAL_PRIORITY if g in goals), None)


def _pick_sector(hits: Sequence[_Hit], tokens: Sequence[Token]) -> Sector | None:
    """The sector someone wants to go to ('Umschulung zur Pflegekraft') beats the one they come from."""
    best: tuple[int, int, Sector] | None = None
    for h in hits:
        sector = h.meaning.sector
        if sector is None or sector is Sector.UNBEKANNT:
            continue
        cue = 0
        for j in range(max(0, h.first - 2), h.first):
            cue = max(cue, _TARGET_CUES.get(tokens[j].norm, 0))
        if h.first + 1 < len(tokens) and tokens[h.first + 1].norm in ("werden", "lernen"):
            cue = 2
        candidate = (cue, -h.first, sector)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is not None:
        return best[2]
    return Sector.UNBEKANNT if any(h.meaning.sector is Sector.UNBEKANNT for h in hits) else None


def _keywords(
    tokens: Sequence[Token], blocked: Sequence[bool], hits: Sequence[_Hit], lex: Lexicon
) -> tuple[str, ...]:
    """Content words for keyword search over offers; typo-corrected words in their lexicon spelling."""
    corrected: dict[int, list[str]] = {}
    for h in hits:
        m = h.meaning
        no_topic = m.sector is Sector.UNBEKANNT or (m.outside and m.situation is None and m.goal is None)
        if h.negated or no_topic:
            for j in range(h.first, h.last + 1):  # "nicht arbeitslos", "keine Ahnung" are no search terms
                corrected[j] = []
        elif h.fuzzy:
            words = [w.lower() for w in h.meaning.label.replace("-", " ").replace("*", "").split()]
            corrected[h.first] = [w for w in words if normalize_word(w) not in lex.stopwords]
            for j in range(h.first + 1, h.last + 1):
                corrected[j] = []
    out: dict[str, None] = {}
    for i, tok in enumerate(tokens):
        if blocked[i]:
            continue
        if i in corrected:
            out.update(dict.fromkeys(corrected[i]))
            continue
        norm = tok.norm
        if not 3 <= len(norm) <= 40 or not norm.isascii() or not norm.isalnum() or norm.isdigit():
            continue
        if norm in lex.stopwords or norm in lex.fillers or norm in lex.negators:
            continue
        out[tok.raw.lower()] = None
        if len(out) >= _MAX_KEYWORDS:
            break
    return tuple(out)[:_MAX_KEYWORDS]


def explain(text: str, gazetteer: Gazetteer) -> Iterable[str]:
    """Debug aid for data editors: which lexicon entries and places a message hit."""
    prepared = prepare_text(text)
    tokens = tokenize(prepared)
    lex = bundled_lexicon()
    places = gazetteer.match_tokens(prepared, tokens, known_words=lex.known_words)
    blocked = [any(p.start <= t.start < p.end for p in places) for t in tokens]
    for p in places:
        yield f"place {p.text!r}: {p.kind} {p.district} {[m.name for m in p.candidates]} score={p.score}"
    for h in lex.match(tokens, blocked):
        span = prepared[tokens[h.first].start : tokens[h.last].end]
        flags = (" (typo)" if h.fuzzy else "") + (" (negated)" if h.negated else "")
        yield f"term {span!r} -> {h.meaning}{flags}"
