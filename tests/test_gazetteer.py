"""Gazetteer: bundled data, postcodes, place names in free text and GPS -> district.

A wrong district sends a user to the wrong Jobcenter, so every municipality is checked by name
and by its own locality point, not just a handful of samples.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from knowledge.gazetteer import Gazetteer, PlaceMatch
from knowledge.text import normalize_phrase, plausible_typo
from knowledge.vocabulary import REGION_DISTRICTS, District

DUPLICATE_NAMES = {"Barum", "Hanstedt"}


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.bundled()


def _only(matches: list[PlaceMatch]) -> PlaceMatch:
    assert len(matches) == 1, matches
    return matches[0]


# --- bundled data --------------------------------------------------------------------------------


def test_data_has_139_municipalities_in_4_districts(gaz: Gazetteer) -> None:
    assert len(gaz.municipalities) == 139
    assert len({m.ags for m in gaz.municipalities}) == 139
    per_district = Counter(m.district for m in gaz.municipalities)
    assert set(per_district) == set(REGION_DISTRICTS)
    assert per_district == {
        District.LUENEBURG: 43,
        District.HARBURG: 42,
        District.UELZEN: 27,
        District.LUECHOW_DANNENBERG: 27,
    }


def test_ags_prefix_matches_district(gaz: Gazetteer) -> None:
    from knowledge.vocabulary import DISTRICT_BY_AGS

    for m in gaz.municipalities:
        assert DISTRICT_BY_AGS[m.ags[:5]] is m.district, m


def test_bundled_is_cached(gaz: Gazetteer) -> None:
    assert Gazetteer.bundled() is gaz


def test_attribution_names_the_licences(gaz: Gazetteer) -> None:
    for needle in (
        "GeoBasis-DE / BKG 2019",
        "GeoBasis-DE / BKG 2021",
        "dl-de/by-2-0",
        "GeoNames",
        "CC BY 4.0",
    ):
        assert needle in gaz.attribution
    md = (resources.files("knowledge") / "data" / "GEO_ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "© GeoBasis-DE / BKG 2019 (Daten verändert)" in md
    assert "CC BY 4.0" in md


def test_geojson_is_bundled_with_region_and_neighbours() -> None:
    data = json.loads(
        (resources.files("knowledge") / "data" / "districts.geojson").read_text(encoding="utf-8")
    )
    props = [f["properties"] for f in data["features"]]
    assert sum(p["in_region"] for p in props) == 4
    assert len(props) == 15


def test_runtime_code_does_not_read_shared_facts() -> None:
    root = Path(__file__).resolve().parents[1] / "knowledge"
    for path in (root / "gazetteer.py", root / "understanding.py"):
        assert "shared/facts" not in path.read_text(encoding="utf-8"), path
        assert "../shared" not in path.read_text(encoding="utf-8"), path


# --- postcodes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plz", "district", "name"),
    [
        ("21423", District.HARBURG, "Winsen (Luhe)"),
        ("29525", District.UELZEN, "Uelzen"),
        ("29439", District.LUECHOW_DANNENBERG, "Lüchow (Wendland)"),
        ("21335", District.LUENEBURG, "Lüneburg"),
        ("21244", District.HARBURG, "Buchholz in der Nordheide"),
        ("19273", District.LUENEBURG, "Amt Neuhaus"),
        ("29549", District.UELZEN, "Bad Bevensen"),
    ],
)
def test_by_postcode(gaz: Gazetteer, plz: str, district: District, name: str) -> None:
    found = gaz.by_postcode(plz)
    assert name in [m.name for m in found]
    assert {m.district for m in found} == {district}
    assert gaz.district_for_postcode(plz) is district


@pytest.mark.parametrize("plz", ["20095", "10115", "29221", "80331"])
def test_postcode_outside_region(gaz: Gazetteer, plz: str) -> None:
    assert gaz.by_postcode(plz) == []
    assert gaz.district_for_postcode(plz) is District.AUSSERHALB
    match = _only(gaz.find_places(f"Meine PLZ ist {plz}"))
    assert match.kind == "postcode"
    assert match.district is District.AUSSERHALB
    assert not match.in_region


@pytest.mark.parametrize("value", ["2142", "214233", "abcde", "", "21 423"])
def test_malformed_postcode(gaz: Gazetteer, value: str) -> None:
    assert gaz.by_postcode(value) == []
    assert gaz.district_for_postcode(value) is None


def test_shared_postcode_lists_all_municipalities(gaz: Gazetteer) -> None:
    names = {m.name for m in gaz.by_postcode("21255")}
    assert {"Tostedt", "Dohren", "Kakenstorf", "Königsmoor", "Wistedt"} <= names


@pytest.mark.parametrize(
    "text",
    ["Ich habe 20000 Euro Schulden", "Tel. 04131 123456", "Kosten: 12000 €", "Das sind 21423 km"],
)
def test_numbers_that_are_not_postcodes(gaz: Gazetteer, text: str) -> None:
    assert gaz.find_places(text) == []


# --- every municipality by name --------------------------------------------------------------------


def test_every_municipality_resolves_by_exact_name(gaz: Gazetteer) -> None:
    for m in gaz.municipalities:
        match = _only(gaz.find_places(m.name))
        assert m.ags in [c.ags for c in match.candidates], m.name
        assert match.score == 100.0
        if m.name in DUPLICATE_NAMES:
            assert match.district is None and match.ambiguous, m.name
        else:
            assert match.district is m.district, m.name
        # also inside a sentence, after a place preposition
        in_sentence = gaz.find_places(f"Ich wohne in {m.name} und suche Hilfe")
        assert in_sentence and m.ags in [c.ags for c in in_sentence[0].candidates], m.name


def test_every_alias_and_locality_resolves(gaz: Gazetteer) -> None:
    for m in gaz.municipalities:
        for name in (*m.aliases, *m.localities):
            matches = gaz.find_places(f"Ich wohne in {name}")
            assert matches, name
            assert m.ags in [c.ags for c in matches[0].candidates], (name, m.name)


def test_every_locality_point_lies_in_its_district(gaz: Gazetteer) -> None:
    for m in gaz.municipalities:
        assert gaz.district_for_location(m.lat, m.lon) is m.district, m.name


def test_by_name_and_ags(gaz: Gazetteer) -> None:
    assert [m.ags for m in gaz.by_name("Winsen")] == ["03353040"]
    assert {m.district for m in gaz.by_name("Barum")} == {District.LUENEBURG, District.UELZEN}
    lueneburg = gaz.by_ags("03355022")
    assert lueneburg is not None and lueneburg.name == "Lüneburg"
    assert gaz.by_name("Kaltenmoor") == []  # a locality, not a municipality name


# --- ambiguity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "districts"),
    [
        ("Barum", {District.LUENEBURG, District.UELZEN}),
        ("Hanstedt", {District.HARBURG, District.UELZEN}),
    ],
)
def test_duplicate_names_are_ambiguous(gaz: Gazetteer, name: str, districts: set[District]) -> None:
    match = _only(gaz.find_places(name))
    assert match.ambiguous
    assert match.district is None
    assert set(match.districts) == districts
    assert len(match.candidates) == 2


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("Hanstedt (Nordheide)", District.HARBURG),
        ("Samtgemeinde Hanstedt", District.HARBURG),
        ("Hanstedt (Landkreis Uelzen)", District.UELZEN),
        ("Barum (Landkreis Lüneburg)", District.LUENEBURG),
    ],
)
def test_qualified_duplicate_names(gaz: Gazetteer, text: str, district: District) -> None:
    assert _only(gaz.find_places(text)).district is district


# --- free text: typos, spellings, districts --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "district", "name"),
    [
        ("Lühneburg", District.LUENEBURG, "Lüneburg"),
        ("Luneburg", District.LUENEBURG, "Lüneburg"),
        ("LUENEBURG", District.LUENEBURG, "Lüneburg"),
        ("Winsn", District.HARBURG, "Winsen (Luhe)"),
        ("Winsen/Luhe", District.HARBURG, "Winsen (Luhe)"),
        ("Winsen an der Luhe", District.HARBURG, "Winsen (Luhe)"),
        ("Buchholz i.d.N.", District.HARBURG, "Buchholz in der Nordheide"),
        ("Buchholz in der Nordheide", District.HARBURG, "Buchholz in der Nordheide"),
        ("Bad Bevensen", District.UELZEN, "Bad Bevensen"),
        ("bad bevensn", District.UELZEN, "Bad Bevensen"),
        ("Ülzen", District.UELZEN, "Uelzen"),
        ("Lüchow", District.LUECHOW_DANNENBERG, "Lüchow (Wendland)"),
        ("Luechow", District.LUECHOW_DANNENBERG, "Lüchow (Wendland)"),
        ("Hitzaker", District.LUECHOW_DANNENBERG, "Hitzacker (Elbe)"),
        ("Neu Wulmstorf", District.HARBURG, "Neu Wulmstorf"),
        ("Neu-Wulmstorf", District.HARBURG, "Neu Wulmstorf"),
        ("Neuwulmstorf", District.HARBURG, "Neu Wulmstorf"),
        ("Seevetaal", District.HARBURG, "Seevetal"),
        ("Tostet", District.HARBURG, "Tostedt"),
        ("Wendisch Evern", District.LUENEBURG, "Wendisch Evern"),
        ("Hansestadt Lüneburg", District.LUENEBURG, "Lüneburg"),
        ("Kaltenmoor", District.LUENEBURG, "Lüneburg"),
        ("Hittfeld", District.HARBURG, "Seevetal"),
        ("Uelzener", District.UELZEN, "Uelzen"),
    ],
)
def test_spellings_and_typos(gaz: Gazetteer, text: str, district: District, name: str) -> None:
    match = _only(gaz.find_places(f"Ich wohne in {text}"))
    assert match.district is district
    assert [c.name for c in match.candidates] == [name]
    assert match.text.lower().startswith(text.lower()[:3])
    assert 80 <= match.score <= 100


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("Landkreis Harburg", District.HARBURG),
        ("LK Uelzen", District.UELZEN),
        ("Kreis Lüneburg", District.LUENEBURG),
        ("Landkreis Lüchow-Dannenberg", District.LUECHOW_DANNENBERG),
        ("Lüchow-Dannenberg", District.LUECHOW_DANNENBERG),
        ("Wendland", District.LUECHOW_DANNENBERG),
        ("Dannenberg", District.LUECHOW_DANNENBERG),
        ("Harburg", District.HARBURG),
        ("LG", District.LUENEBURG),
        ("WL", District.HARBURG),
        ("ue", District.UELZEN),
        ("DAN", District.LUECHOW_DANNENBERG),
    ],
)
def test_district_names_and_plates(gaz: Gazetteer, text: str, district: District) -> None:
    assert _only(gaz.find_places(text)).district is district


@pytest.mark.parametrize("text", ["LG Anna", "Viele Grüße, LG", "Das ist ue", "Dan und ich"])
def test_plate_codes_only_alone(gaz: Gazetteer, text: str) -> None:
    assert gaz.find_places(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hamburg",
        "Ich wohne in Hamburg-Harburg",
        "Berlin",
        "Ich komme aus Celle",
        "Buxtehude",
    ],
)
def test_outside_places(gaz: Gazetteer, text: str) -> None:
    match = _only(gaz.find_places(text))
    assert match.kind == "outside"
    assert match.district is District.AUSSERHALB


def test_hamburg_is_not_a_typo_of_harburg(gaz: Gazetteer) -> None:
    assert _only(gaz.find_places("Hamburg")).district is District.AUSSERHALB
    assert _only(gaz.find_places("Harburg")).district is District.HARBURG


# --- false positives -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ich suche eine Stelle",
        "Die Stelle ist leider schon besetzt.",
        "Wir haben eine Welle von Anfragen bekommen.",
        "Er trägt eine Weste.",
        "Der Otter schwimmt im Fluss.",
        "Appel sagt man auf Platt",
        "Das ist ein Stapel Papier.",
        "Die Maschen sind zu eng.",
        "Wir haben einen Rosengarten.",
        "Warum dauert das so lange? Darum!",
        "Im Westen nichts Neues.",
        "Wir fahren an die Küste.",
        "Ich habe viele Sachen gemacht.",
        "Ich wohne in der Lüneburger Heide",
        "Lüneburger Straße 5",
        "Ich bekomme Stütze",
        "Hallo, wie geht es?",
    ],
)
def test_no_place_in_ordinary_sentences(gaz: Gazetteer, text: str) -> None:
    assert gaz.find_places(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ich wohne in Stelle", "Stelle"),
        ("Ich komme aus Welle", "Welle"),
        ("21435 Stelle", "Stelle"),
        ("Stelle", "Stelle"),
        ("in Otter", "Otter"),
        ("Weste", "Weste"),
        ("bei Drage", "Drage"),
        ("Ich wohne in Dahlem", "Dahlem"),
        ("Ich wohne in Maschen", "Seevetal"),
    ],
)
def test_word_like_names_in_place_context(gaz: Gazetteer, text: str, name: str) -> None:
    matches = [m for m in gaz.find_places(text) if m.kind != "postcode"]
    assert [c.name for c in _only(matches).candidates] == [name]


def test_word_like_name_needs_capital_in_a_sentence(gaz: Gazetteer) -> None:
    assert gaz.find_places("ich wohne in stelle und suche arbeit") == []


def test_known_words_are_not_read_as_typos(gaz: Gazetteer) -> None:
    assert gaz.find_places("Tostet") != []
    assert gaz.find_places("Tostet", known_words={"tostet"}) == []


def test_plausible_typo_rules() -> None:
    assert plausible_typo("winsn", "winsen")
    assert plausible_typo("luehneburg", "lueneburg")
    assert not plausible_typo("fahren", "fahrer")  # a substitution in a short word is another word
    assert not plausible_typo("barum", "warum")
    assert not plausible_typo("otto", "otter")


def test_normalize_phrase() -> None:
    assert normalize_phrase("Lüchow (Wendland)") == "luechow wendland"
    assert normalize_phrase("Buchholz i.d.N.") == "buchholz i d n"
    assert normalize_phrase("GROẞ Straße") == "gross strasse"


# --- GPS -> district -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "district"),
    [
        (53.2489, 10.4075, District.LUENEBURG),  # Lüneburg, Am Sande
        (53.357, 10.211, District.HARBURG),  # Winsen (Luhe)
        (53.326, 9.868, District.HARBURG),  # Buchholz i.d.N., Bahnhof
        (52.965, 10.56, District.UELZEN),  # Uelzen
        (52.967, 11.153, District.LUECHOW_DANNENBERG),  # Lüchow
        (53.5503, 9.9920, District.AUSSERHALB),  # Hamburg, Rathaus
        (52.62, 10.08, District.AUSSERHALB),  # Celle
        (52.5219, 13.4132, District.AUSSERHALB),  # Berlin, Alexanderplatz
        (0.0, 0.0, District.AUSSERHALB),
    ],
)
def test_district_for_location(gaz: Gazetteer, lat: float, lon: float, district: District) -> None:
    assert gaz.district_for_location(lat, lon) is district


def test_holes_in_polygons_are_respected(gaz: Gazetteer) -> None:
    """Two Harburg exclaves are holes in the Lüneburg polygon: points there belong to Harburg."""
    data = json.loads(
        (resources.files("knowledge") / "data" / "districts.geojson").read_text(encoding="utf-8")
    )
    lueneburg = next(f for f in data["features"] if f["properties"]["ags"] == "03355")
    holes = [ring for poly in [lueneburg["geometry"]["coordinates"]] for ring in poly[1:]]
    assert len(holes) == 2
    for ring in holes:
        pts = ring[:-1] if ring[0] == ring[-1] else ring
        lon = sum(p[0] for p in pts) / len(pts)
        lat = sum(p[1] for p in pts) / len(pts)
        assert gaz.district_for_location(lat, lon) is District.HARBURG


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x", None])
def test_district_for_location_bad_input(gaz: Gazetteer, bad: object) -> None:
    assert gaz.district_for_location(bad, 10.0) is District.AUSSERHALB  # type: ignore[arg-type]
