"""Places of the region: postcode lookup, place names in free text, GPS point -> district.

Users name their home in many ways ("Winsn", "Buchholz i.d.N.", "21423", "Kreis Uelzen"), and a
wrong district sends them to the wrong Jobcenter, so recognition is tolerant to typos but strict
where a place name is also an ordinary German word ("ich suche eine Stelle"). Everything here is
pure Python over bundled, immutable data; nothing reads the network or the shared fact base.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel, Levenshtein

from knowledge.schema import GazetteerFile, Municipality
from knowledge.vocabulary import DISTRICT_BY_AGS, REGION_DISTRICTS, District

# Only the start of a message is examined: long pastes are rare, and the cost must stay bounded.
MAX_CHARS = 500
MAX_NGRAM = 4

PlaceKind = Literal["municipality", "locality", "district", "postcode", "outside"]

# ---------------------------------------------------------------------------------------------
# Text normalisation shared with knowledge.understanding
# ---------------------------------------------------------------------------------------------

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


def normalize_word(word: str) -> str:
    """Fold case, umlauts and accents so 'Lüneburg', 'LUENEBURG' and 'Lueneburg' compare equal."""
    folded = word.lower().translate(_FOLD)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_phrase(phrase: str) -> str:
    """A phrase as space-joined normalised tokens, the key format of every lookup table."""
    return " ".join(normalize_word(m.group()) for m in _TOKEN_RE.finditer(_clean(phrase)))


def _clean(text: str) -> str:
    """Bound the length and drop control/format characters (RTL marks, NULs) before tokenising."""
    text = unicodedata.normalize("NFC", text[: MAX_CHARS * 2])[:MAX_CHARS]
    if text.isascii() and text.isprintable():
        return text
    return "".join(" " if unicodedata.category(c) in _CONTROL_CATEGORIES else c for c in text)


def prepare_text(text: str) -> str:
    """The cleaned, truncated text all offsets in Token and PlaceMatch refer to."""
    if not isinstance(text, str):
        return ""
    return _clean(text)


def tokenize(text: str) -> list[Token]:
    """Tokens of already prepared text (see prepare_text); punctuation and emoji separate words."""
    return [Token(normalize_word(m.group()), m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


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
    for key, dist, _ in process.extract(
        query, choices, scorer=Levenshtein.distance, processor=None, score_cutoff=cutoff, limit=3
    ):
        if plausible_typo(query, key):
            return key, round(100.0 * (1 - int(dist) / max(len(query), len(key))), 1)
    return None


# ---------------------------------------------------------------------------------------------
# Matching rules (data about German, not about the region)
# ---------------------------------------------------------------------------------------------

# Municipality and locality names that are also ordinary German words: only matched when written
# with a capital letter after a place preposition ("in Stelle"), or when they are the whole answer.
GUARDED_NAMES: frozenset[str] = frozenset(
    normalize_word(w)
    for w in (
        "Stelle", "Otter", "Welle", "Appel", "Weste", "Dahlem", "Drage", "Küsten", "Stapel",
        "Maschen", "Rosengarten", "Lüder", "Bergen", "Neuhaus", "Heidenau", "Garstedt",
    )
)  # fmt: skip

# Names one typo away from a frequent word ("Stütze", "Netze", "Marken", "Lieder"): exact only.
NO_FUZZY_NAMES: frozenset[str] = frozenset(
    normalize_word(w) for w in ("Stoetze", "Neetze", "Marxen", "Trebel", "Tespe", "Echem", "Pattensen")
)

PLACE_CUES: frozenset[str] = frozenset(
    {"in", "aus", "bei", "nach", "nahe", "naehe", "wohne", "wohnort", "gemeinde", "ort", "ortsteil", "dorf"}
)

# Function words never fuzzy-matched against place names.
_STOPWORDS: frozenset[str] = frozenset(
    normalize_word(w)
    for w in re.split(
        r"\s+",
        """
    ich du er sie es wir ihr mich mir dich dir uns euch mein meine meinen meinem meiner dein deine
    unser unsere unseren unserem unserer der die das den dem des ein eine einen einem einer eines
    und oder aber sondern denn weil dass wenn als wie wo was wer wann warum darum daher dort hier
    in im an am auf aus bei mit nach von vom zu zum zur für über unter vor hinter neben zwischen
    ist bin bist sind seid war waren habe hast hat haben hatte werde wird werden wurde kann können
    möchte möchten will wollen soll sollen muss müssen gerne gern bitte danke auch noch schon nur
    sehr mehr viel viele nicht kein keine keinen keiner nie ja nein doch mal etwas jetzt dann
    also sowie gibt geben welche welcher welches diese dieser dieses jemand alle alles
    """.strip(),
    )
)

# Well-known places outside the region: exact names report "außerhalb" and block fuzzy look-alikes
# (without this, "Hamburg" would be one typo away from the district "Harburg").
OUTSIDE_PLACES: tuple[str, ...] = (
    "Hamburg", "Hamburg-Harburg", "Hamburg Harburg", "Harburg (Hamburg)", "Bergedorf", "Berlin", "Bremen",
    "Hannover", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Dortmund", "Leipzig",
    "Dresden", "Kiel", "Lübeck", "Schwerin", "Rostock", "Magdeburg", "Braunschweig", "Wolfsburg",
    "Celle", "Gifhorn", "Stade", "Buxtehude", "Soltau", "Munster", "Schneverdingen", "Rotenburg",
    "Salzwedel", "Ludwigslust", "Lauenburg", "Geesthacht", "Boizenburg", "Hagenow", "Wittenberge",
    "Stendal", "Norderstedt", "Cuxhaven", "Oldenburg", "Osnabrück", "Göttingen", "Hildesheim",
    "Verden", "Walsrode", "Bad Fallingbostel", "Heidekreis", "Landkreis Celle", "Landkreis Stade",
    "Landkreis Gifhorn", "Landkreis Rotenburg", "Schleswig-Holstein", "Mecklenburg",
    "Mecklenburg-Vorpommern", "Sachsen-Anhalt", "Brandenburg", "Nordrhein-Westfalen", "Bayern",
    "Hessen", "Sachsen", "Thüringen", "Baden-Württemberg",
)  # fmt: skip

_DISTRICT_BASE: dict[District, tuple[str, ...]] = {
    District.LUENEBURG: ("Lüneburg",),
    District.HARBURG: ("Harburg",),
    District.UELZEN: ("Uelzen",),
    District.LUECHOW_DANNENBERG: ("Lüchow-Dannenberg", "Lüchow Dannenberg", "Lüchow/Dannenberg"),
}
_DISTRICT_PREFIXES = ("Landkreis", "LK", "Lkr", "Kreis", "Landkreises", "Kreises", "Lk.")
# Names that mean a district on their own. "Harburg" alone is taken as the Landkreis: a user of a
# regional bot means that far more often than the Hamburg borough, which is matched explicitly.
_DISTRICT_EXTRA: dict[District, tuple[str, ...]] = {
    District.HARBURG: ("Harburg",),
    District.LUECHOW_DANNENBERG: ("Lüchow-Dannenberg", "Wendland", "Dannenberg"),
}
# Car plate codes: two letters are far too common as abbreviations ("LG" = "liebe Grüße"), so they
# only count when they are the entire answer.
DISTRICT_PLATES: dict[str, District] = {
    "lg": District.LUENEBURG,
    "wl": District.HARBURG,
    "ue": District.UELZEN,
    "dan": District.LUECHOW_DANNENBERG,
}

# Phrases that contain a place name but do not say where someone lives.
_IGNORED_PHRASES: tuple[str, ...] = ("Lüneburger Heide", "Nordheide", "Harburger Berge", "Wendländer Platt")
_STREET_WORDS: frozenset[str] = frozenset(
    {"strasse", "str", "weg", "allee", "chaussee", "landstrasse", "heerstrasse", "damm"}
)
_NOT_A_POSTCODE_AFTER: frozenset[str] = frozenset(
    {"euro", "eur", "km", "kilometer", "einwohner", "menschen", "leute", "mitarbeiter", "stunden", "mal"}
)

# ---------------------------------------------------------------------------------------------
# Public result type
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """One place mentioned in a message.

    `candidates` are the municipalities the words may mean (two for "Barum"/"Hanstedt", several for
    a shared postcode); `district` is set only when every reading lies in the same district, and is
    District.AUSSERHALB for places and postcodes outside the region.
    """

    text: str
    start: int
    end: int
    kind: PlaceKind
    candidates: tuple[Municipality, ...]
    district: District | None
    score: float
    cue: bool = False  # preceded by a place preposition ("in", "aus", "wohne in" …)

    @property
    def ambiguous(self) -> bool:
        return self.district is None and len(self.districts) > 1

    @property
    def districts(self) -> tuple[District, ...]:
        if not self.candidates:
            return (self.district,) if self.district is not None else ()
        return tuple(dict.fromkeys(m.district for m in self.candidates))  # districts hash, models don't

    @property
    def in_region(self) -> bool:
        return self.district is not District.AUSSERHALB and bool(self.districts)


@dataclass(slots=True)
class _Entry:
    kind: PlaceKind
    candidates: tuple[Municipality, ...] = ()
    district: District | None = None
    guarded: bool = False
    fuzzy: bool = True


@dataclass(frozen=True, slots=True)
class _Region:
    district: District
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...] = field(default=())


def _district_of(candidates: Sequence[Municipality]) -> District | None:
    districts = {m.district for m in candidates}
    return districts.pop() if len(districts) == 1 else None


def _point_in_ring(x: float, y: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Even-odd ray casting, the same rule as the fact base's check_geo.py."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < xi + (y - yi) * (xj - xi) / (yj - yi):
            inside = not inside
        j = i
    return inside


class Gazetteer:
    """The 139 municipalities of the region plus the district polygons, with lookups over both."""

    def __init__(self, data: GazetteerFile, districts_geojson: Mapping[str, Any]) -> None:
        self.attribution = data.attribution
        self.municipalities: tuple[Municipality, ...] = tuple(data.municipalities)
        self._by_ags = {m.ags: m for m in self.municipalities}
        self._by_postcode: dict[str, list[Municipality]] = {}
        for m in self.municipalities:
            for plz in m.postcodes:
                self._by_postcode.setdefault(plz, []).append(m)
        self._regions = self._load_regions(districts_geojson)
        self._exact: dict[str, _Entry] = {}
        self._build_index()
        self._fuzzy_choices: dict[tuple[int, str], list[str]] = {}
        for key, entry in self._exact.items():
            n_tokens = key.count(" ") + 1
            if entry.fuzzy and not entry.guarded and len(key) >= 6:
                self._fuzzy_choices.setdefault((n_tokens, key[0]), []).append(key)
        self._max_ngram = min(MAX_NGRAM, max(k.count(" ") + 1 for k in self._exact))
        self._fuzzy_lookup = functools.lru_cache(maxsize=4096)(self._fuzzy_uncached)

    # -- loading --------------------------------------------------------------------------------

    @classmethod
    def bundled(cls) -> Gazetteer:
        """The gazetteer shipped with the package (cached: the data never changes at run time)."""
        return _bundled()

    @classmethod
    def from_text(cls, gazetteer_yaml: str, districts_geojson: str) -> Gazetteer:
        data = GazetteerFile.model_validate(yaml.safe_load(gazetteer_yaml))
        return cls(data, json.loads(districts_geojson))

    @staticmethod
    def _load_regions(geojson: Mapping[str, Any]) -> tuple[_Region, ...]:
        regions: list[_Region] = []
        for feature in geojson.get("features", []):
            district = DISTRICT_BY_AGS.get(str(feature.get("properties", {}).get("ags", "")))
            if district is None:
                continue  # neighbouring districts only matter as "not ours"
            geom = feature["geometry"]
            raw_polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            polys = tuple(
                tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in poly) for poly in raw_polys
            )
            xs = [x for poly in polys for x, _ in poly[0]]
            ys = [y for poly in polys for _, y in poly[0]]
            regions.append(_Region(district, (min(xs), min(ys), max(xs), max(ys)), polys))
        if {r.district for r in regions} != set(REGION_DISTRICTS):
            raise ValueError("districts geojson must contain the four region districts")
        return tuple(regions)

    def _put(self, phrase: str, entry: _Entry) -> None:
        for key in {normalize_phrase(phrase), normalize_phrase(phrase).replace(" ", "")}:
            if not key:
                continue
            old = self._exact.get(key)
            if old is None:
                self._exact[key] = _Entry(
                    entry.kind, entry.candidates, entry.district, entry.guarded, entry.fuzzy
                )
                continue
            rank = ("municipality", "locality", "district", "outside")
            if entry.kind in ("municipality", "locality") and old.kind in ("municipality", "locality"):
                merged = tuple({m.ags: m for m in old.candidates + entry.candidates}.values())
                kind = min(old.kind, entry.kind, key=rank.index)
                guarded, fuzzy = old.guarded or entry.guarded, old.fuzzy and entry.fuzzy
                self._exact[key] = _Entry(kind, merged, _district_of(merged), guarded, fuzzy)
            # otherwise the earlier (more specific) entry wins: municipalities are added first

    def _build_index(self) -> None:
        named: list[tuple[PlaceKind, str, Municipality]] = []
        for m in self.municipalities:
            named += [("municipality", name, m) for name in (m.name, *m.aliases)]
        for m in self.municipalities:  # localities after all names: a name beats an Ortsteil
            named += [("locality", name, m) for name in m.localities]
        for kind, name, m in named:
            key = normalize_phrase(name)
            guarded, fuzzy = key in GUARDED_NAMES, key not in NO_FUZZY_NAMES
            self._put(name, _Entry(kind, (m,), m.district, guarded=guarded, fuzzy=fuzzy))
        for district, bases in _DISTRICT_BASE.items():
            for base in bases:
                for prefix in _DISTRICT_PREFIXES:
                    self._put(f"{prefix} {base}", _Entry("district", (), district))
        for district, names in _DISTRICT_EXTRA.items():
            for name in names:
                self._put(name, _Entry("district", (), district))
        for name in OUTSIDE_PLACES:
            # Only long outside names are typo targets: "Sachen" must not become "Sachsen".
            long_name = len(normalize_phrase(name)) >= 9
            self._put(name, _Entry("outside", (), District.AUSSERHALB, fuzzy=long_name))
        for phrase in _IGNORED_PHRASES:
            self._exact[normalize_phrase(phrase)] = _Entry("outside", (), None, fuzzy=False)

    # -- lookups --------------------------------------------------------------------------------

    def by_ags(self, ags: str) -> Municipality | None:
        return self._by_ags.get(ags)

    def by_name(self, name: str) -> list[Municipality]:
        """Municipalities whose official name or alias is exactly `name` (after normalisation)."""
        entry = self._exact.get(normalize_phrase(name))
        if entry is None or entry.kind != "municipality":
            return []
        return list(entry.candidates)

    def by_postcode(self, plz: str) -> list[Municipality]:
        """Municipalities using this postcode; empty for postcodes outside the region."""
        return list(self._by_postcode.get(str(plz).strip(), ()))

    def district_for_postcode(self, plz: str) -> District | None:
        """District of a postcode, AUSSERHALB for a valid German postcode elsewhere, None if ambiguous
        or not a postcode at all."""
        plz = str(plz).strip()
        if not (len(plz) == 5 and plz.isascii() and plz.isdigit()):
            return None
        found = self._by_postcode.get(plz)
        return District.AUSSERHALB if not found else _district_of(found)

    def district_for_location(self, lat: float, lon: float) -> District:
        """District containing a GPS point, or AUSSERHALB (holes such as exclaves respected)."""
        try:
            x, y = float(lon), float(lat)
        except (TypeError, ValueError):
            return District.AUSSERHALB
        if not (math.isfinite(x) and math.isfinite(y)):
            return District.AUSSERHALB
        for region in self._regions:
            min_x, min_y, max_x, max_y = region.bbox
            if not (min_x <= x <= max_x and min_y <= y <= max_y):
                continue
            for poly in region.polygons:
                if _point_in_ring(x, y, poly[0]) and not any(_point_in_ring(x, y, h) for h in poly[1:]):
                    return region.district
        return District.AUSSERHALB

    # -- free text ------------------------------------------------------------------------------

    def find_places(self, text: str, *, known_words: Iterable[str] = ()) -> list[PlaceMatch]:
        """Places, districts and postcodes mentioned anywhere in `text`, in text order.

        `known_words` are normalised words the caller already understands (its vocabulary); they
        are never read as misspelt place names.
        """
        prepared = prepare_text(text)
        return self.match_tokens(prepared, tokenize(prepared), known_words=frozenset(known_words))

    def match_tokens(
        self, text: str, tokens: Sequence[Token], *, known_words: frozenset[str] = frozenset()
    ) -> list[PlaceMatch]:
        """find_places on already tokenised text (lets the caller tokenise once)."""
        n = len(tokens)
        if n == 0:
            return []
        covered = [False] * n
        found: list[PlaceMatch] = []

        # Pass 1: exact names, aliases, districts, postcodes; longest phrase first.
        i = 0
        while i < n:
            tok = tokens[i]
            if len(tok.norm) == 5 and tok.norm.isdigit():
                match = self._postcode_match(text, tokens, i)
                if match is not None:
                    found.append(match)
                    covered[i] = True
                i += 1
                continue
            for size in range(min(self._max_ngram, n - i), 0, -1):
                key = " ".join(t.norm for t in tokens[i : i + size])
                entry = self._exact.get(key)
                if entry is None or not self._accept(entry, tokens, i, size):
                    continue
                for k in range(i, i + size):
                    covered[k] = True
                if entry.district is not None or entry.candidates:
                    found.append(self._make(text, tokens, i, size, entry, 100.0))
                i += size
                break
            else:
                i += 1

        if n == 1 and tokens[0].norm in DISTRICT_PLATES and not covered[0]:
            found.append(self._plate_match(tokens[0]))
            covered[0] = True

        # Pass 2: typos and adjective forms on words pass 1 left alone.
        i = 0
        while i < n:
            if covered[i]:
                i += 1
                continue
            hit = self._fuzzy_at(text, tokens, i, covered, known_words)
            if hit is None:
                i += 1
                continue
            match, size = hit
            found.append(match)
            for k in range(i, i + size):
                covered[k] = True
            i += size
        found.sort(key=lambda m: m.start)
        return found

    def _accept(self, entry: _Entry, tokens: Sequence[Token], i: int, size: int) -> bool:
        end = i + size
        if end < len(tokens) and tokens[end].norm in _STREET_WORDS and entry.kind != "outside":
            return False  # "Lüneburger Straße 5" names a street, not where someone lives
        if not entry.guarded:
            return True
        if all(t.norm in PLACE_CUES for j, t in enumerate(tokens) if not i <= j < end):
            return True  # the whole answer is the name ("Stelle", "in Stelle")
        return tokens[i].raw[:1].isupper() and self._has_cue(tokens, i)

    @staticmethod
    def _has_cue(tokens: Sequence[Token], i: int) -> bool:
        if i == 0:
            return False
        prev = tokens[i - 1].norm
        return prev in PLACE_CUES or (len(prev) == 5 and prev.isdigit())

    def _make(
        self, text: str, tokens: Sequence[Token], i: int, size: int, entry: _Entry, score: float
    ) -> PlaceMatch:
        start, end = tokens[i].start, tokens[i + size - 1].end
        return PlaceMatch(
            text=text[start:end],
            start=start,
            end=end,
            kind=entry.kind,
            candidates=entry.candidates,
            district=entry.district,
            score=score,
            cue=self._has_cue(tokens, i),
        )

    def _plate_match(self, tok: Token) -> PlaceMatch:
        return PlaceMatch(tok.raw, tok.start, tok.end, "district", (), DISTRICT_PLATES[tok.norm], 100.0)

    def _postcode_match(self, text: str, tokens: Sequence[Token], i: int) -> PlaceMatch | None:
        tok = tokens[i]
        if i + 1 < len(tokens) and tokens[i + 1].norm in _NOT_A_POSTCODE_AFTER:
            return None
        if self._digit_neighbour(text, tokens, i):
            return None  # "04131 123456" is a phone number, "DE12 2105 …" an IBAN
        around = text[max(0, tok.start - 2) : tok.end + 2]
        if "€" in around or "$" in around or "%" in around:
            return None
        candidates = tuple(self._by_postcode.get(tok.norm, ()))
        district = _district_of(candidates) if candidates else District.AUSSERHALB
        cue = self._has_cue(tokens, i)
        return PlaceMatch(tok.raw, tok.start, tok.end, "postcode", candidates, district, 100.0, cue)

    @staticmethod
    def _digit_neighbour(text: str, tokens: Sequence[Token], i: int) -> bool:
        for j in (i - 1, i + 1):
            if 0 <= j < len(tokens) and tokens[j].norm.isdigit():
                gap = text[min(tokens[i].end, tokens[j].end) : max(tokens[i].start, tokens[j].start)]
                if gap.strip(" /-.()+") == "":
                    return True
        return False

    def _fuzzy_at(
        self,
        text: str,
        tokens: Sequence[Token],
        i: int,
        covered: Sequence[bool],
        known_words: frozenset[str],
    ) -> tuple[PlaceMatch, int] | None:
        first = tokens[i].norm
        if first in _STOPWORDS or first in known_words or first.isdigit():
            return None
        # Adjective forms: "Uelzener", "Winsener Betriebe" -> Uelzen, Winsen.
        if len(first) >= 7 and first.endswith("er"):
            entry = self._exact.get(first[:-2])
            adjective = entry is not None and entry.kind == "municipality" and not entry.guarded
            if adjective and entry is not None and self._accept(entry, tokens, i, 1):
                return self._make(text, tokens, i, 1, entry, 95.0), 1
        for size in range(min(self._max_ngram, len(tokens) - i), 0, -1):
            if any(covered[i : i + size]):
                continue
            last = tokens[i + size - 1].norm
            if size > 1 and (last in _STOPWORDS or last.isdigit()):
                continue
            query = " ".join(t.norm for t in tokens[i : i + size])
            if len(query) < 5:
                continue
            hit = self._fuzzy_lookup(query, size)
            if hit is None:
                continue
            key, score = hit
            entry = self._exact[key]
            if entry.kind == "outside" and entry.district is None:
                return None  # an ignored phrase such as "Lüneburger Heide"
            if not self._accept(entry, tokens, i, size):
                continue
            return self._make(text, tokens, i, size, entry, score), size
        return None

    def _fuzzy_uncached(self, query: str, size: int) -> tuple[str, float] | None:
        return best_typo_match(query, self._fuzzy_choices.get((size, query[0]), ()))


@functools.cache
def _bundled() -> Gazetteer:
    data_dir = resources.files("knowledge") / "data"
    return Gazetteer.from_text(
        (data_dir / "gazetteer.yaml").read_text(encoding="utf-8"),
        (data_dir / "districts.geojson").read_text(encoding="utf-8"),
    )
