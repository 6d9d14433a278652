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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml

from knowledge.schema import GazetteerFile, Municipality
from knowledge.text import (
    Token,
    TypoIndex,
    longest_ngram,
    max_ngram,
    normalize_phrase,
    normalize_words,
    prepare_text,
    tokenize,
)
from knowledge.vocabulary import DISTRICT_BY_AGS, REGION_DISTRICTS, District

# libyaml's safe loader when PyYAML has it (about ten times faster: every start reads the bundled data)
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NGRAM = 4

PlaceKind = Literal["municipality", "locality", "district", "postcode", "outside"]

# ---------------------------------------------------------------------------------------------
# Matching rules (data about German and the region, in data/gazetteer_words.yaml)
# ---------------------------------------------------------------------------------------------


def _load_words() -> dict[str, Any]:
    text = (resources.files("knowledge") / "data" / "gazetteer_words.yaml").read_text(encoding="utf-8")
    return dict(yaml.load(text, Loader=SAFE_LOADER))


_WORDS = _load_words()


def _by_district(raw: Mapping[str, Sequence[str]]) -> dict[District, tuple[str, ...]]:
    return {District(code): tuple(names) for code, names in raw.items()}


GUARDED_NAMES: frozenset[str] = normalize_words(_WORDS["guarded_names"])
NO_FUZZY_NAMES: frozenset[str] = normalize_words(_WORDS["no_fuzzy_names"])
PLACE_CUES: frozenset[str] = normalize_words(_WORDS["place_cues"])
_STOPWORDS: frozenset[str] = normalize_words(_WORDS["stopwords"])
OUTSIDE_PLACES: tuple[str, ...] = tuple(_WORDS["outside_places"])
_DISTRICT_BASE: dict[District, tuple[str, ...]] = _by_district(_WORDS["district_names"])
_DISTRICT_PREFIXES: tuple[str, ...] = tuple(_WORDS["district_prefixes"])
_DISTRICT_EXTRA: dict[District, tuple[str, ...]] = _by_district(_WORDS["district_alone"])
DISTRICT_PLATES: dict[str, District] = {
    normalize_phrase(plate): District(code) for plate, code in _WORDS["district_plates"].items()
}
_IGNORED_PHRASES: tuple[str, ...] = tuple(_WORDS["ignored_phrases"])
_STREET_WORDS: frozenset[str] = normalize_words(_WORDS["street_words"])
_NOT_A_POSTCODE_AFTER: frozenset[str] = normalize_words(_WORDS["not_a_postcode_after"])

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
        self._typos = TypoIndex(
            key for key, entry in self._exact.items() if entry.fuzzy and not entry.guarded and len(key) >= 6
        )
        self._max_ngram = min(MAX_NGRAM, max_ngram(self._exact))

    # -- loading --------------------------------------------------------------------------------

    @classmethod
    def bundled(cls) -> Gazetteer:
        """The gazetteer shipped with the package (cached: the data never changes at run time)."""
        return _bundled()

    @classmethod
    def from_text(cls, gazetteer_yaml: str, districts_geojson: str) -> Gazetteer:
        data = GazetteerFile.model_validate(yaml.load(gazetteer_yaml, Loader=SAFE_LOADER))
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
        norms = [t.norm for t in tokens]

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
            exact = longest_ngram(norms, i, self._max_ngram, functools.partial(self._accepted, tokens, i))
            if exact is None:
                i += 1
                continue
            size, entry = exact
            for k in range(i, i + size):
                covered[k] = True
            if entry.district is not None or entry.candidates:
                found.append(self._make(text, tokens, i, size, entry, 100.0))
            i += size

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

    def _accepted(self, tokens: Sequence[Token], i: int, key: str, size: int) -> _Entry | None:
        """The entry for the `size`-word phrase `key` at token `i`, if the context allows it."""
        entry = self._exact.get(key)
        return entry if entry is not None and self._accept(entry, tokens, i, size) else None

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
            hit = self._typos.lookup(query, size)
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


@functools.cache
def _bundled() -> Gazetteer:
    data_dir = resources.files("knowledge") / "data"
    return Gazetteer.from_text(
        (data_dir / "gazetteer.yaml").read_text(encoding="utf-8"),
        (data_dir / "districts.geojson").read_text(encoding="utf-8"),
    )
