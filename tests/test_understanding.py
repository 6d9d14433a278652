"""Free-text understanding: real-world phrasings -> dialog slots.

Each row lists only the slots it is about; a listed None means "must stay empty", unlisted slots
are not checked. Missing a slot is acceptable (the dialog asks), a wrong slot is not, so the
negative rows matter as much as the positive ones.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.gazetteer import Gazetteer
from knowledge.understanding import Understanding, _understand, bundled_lexicon, understand
from knowledge.vocabulary import District, Goal, Sector, Situation
from tests.understanding_table import (
    AS,
    AU,
    BE,
    CATEGORIES,
    DAN,
    LG,
    OUT,
    SC,
    SLOTS,
    UE,
    WI,
    WL,
    B,
    expected_situation,
    score,
)

CASES: list[tuple[str, dict[str, Any]]] = [
    # several slots in one message
    (
        "Ich bin Dachdecker aus Winsen und will meinen Meister machen",
        dict(sector=Sector.HANDWERK, district=WL, goal=Goal.AUFSTIEG, situation=BE, place="Winsen (Luhe)"),
    ),
    (
        "Wir sind ein kleiner Pflegedienst in Uelzen und suchen Azubis",
        dict(situation=B, district=UE, sector=Sector.GESUNDHEIT, goal=Goal.GEWINNEN),
    ),
    (
        "arbeitslos in 29439, Umschulung zur Pflegekraft",
        dict(situation=AS, district=DAN, sector=Sector.GESUNDHEIT, goal=Goal.UMSCHULUNG, postcode="29439"),
    ),
    (
        "Ich bin Elektriker und möchte mich zum Techniker weiterbilden",
        dict(situation=BE, sector=Sector.HANDWERK, goal=Goal.AUFSTIEG),
    ),
    (
        "Ich arbeite als Altenpflegerin in Lüneburg und suche eine Weiterbildung",
        dict(situation=BE, sector=Sector.GESUNDHEIT, goal=Goal.WEITERBILDUNG, district=LG),
    ),
    (
        "Ich habe einen ausländischen Abschluss als Krankenschwester und brauche eine Anerkennung",
        dict(situation=AU, sector=Sector.GESUNDHEIT, goal=Goal.ANERKENNUNG),
    ),
    (
        "Ich komme aus Syrien und habe dort als Krankenschwester gearbeitet",
        dict(situation=AU, sector=Sector.GESUNDHEIT),
    ),
    ("Ich komme aus der Ukraine", dict(situation=AU, district=None, outside=False)),
    ("Ich bin nach der Elternzeit auf der Suche nach einem Wiedereinstieg", dict(situation=WI)),
    (
        "Nach der Familienpause möchte ich wieder als Bürokauffrau arbeiten",
        dict(situation=WI, sector=Sector.HANDEL),
    ),
    (
        "Ich bin Mutter von zwei Kindern und will nach der Babypause wieder arbeiten",
        dict(situation=WI, sector=None),
    ),
    (
        "Ich bin Schüler und möchte nach dem Abitur ein duales Studium machen",
        dict(situation=SC, goal=Goal.STUDIUM),
    ),
    (
        "Ich mache gerade mein Abi und suche einen Ausbildungsplatz als Fachinformatiker",
        dict(situation=SC, sector=Sector.IT, goal=Goal.AUSBILDUNG),
    ),
    ("Wir möchten unsere Mitarbeiter weiterbilden", dict(situation=B, goal=Goal.QUALIFIZIEREN)),
    ("Gibt es Zuschüsse, wenn wir Beschäftigte qualifizieren?", dict(situation=B, goal=Goal.QUALIFIZIEREN)),
    (
        "Ich bin Inhaber einer Tischlerei in Seevetal und suche Fachkräfte",
        dict(situation=B, sector=Sector.HANDWERK, goal=Goal.GEWINNEN, district=WL, place="Seevetal"),
    ),
    ("Wie finde ich Azubis für meinen Betrieb?", dict(situation=B, goal=Goal.GEWINNEN)),
    ("Unsere Firma in Buchholz möchte ausbilden", dict(situation=B, goal=Goal.GEWINNEN, district=WL)),
    (
        "Ich beziehe Bürgergeld und möchte einen Berufsabschluss nachholen",
        dict(situation=AS, goal=Goal.UMSCHULUNG),
    ),
    (
        "Das Jobcenter Uelzen hat mir eine Umschulung vorgeschlagen",
        dict(situation=AS, district=UE, goal=Goal.UMSCHULUNG),
    ),
    ("Ich bin Lagerist in Tostedt", dict(situation=BE, sector=Sector.LOGISTIK, district=WL)),
    ("LKW-Fahrer aus Dannenberg, arbeitslos", dict(situation=AS, sector=Sector.LOGISTIK, district=DAN)),
    ("Ich bin Koch und will mich weiterbilden", dict(situation=BE, sector=Sector.GASTRONOMIE)),
    (
        "Verwaltungsfachangestellte beim Landkreis Lüneburg",
        dict(sector=Sector.OEFFENTLICH, district=LG, place=None),
    ),
    ("Softwareentwickler in Adendorf", dict(sector=Sector.IT, district=LG, place="Adendorf")),
    ("Erzieherin in Reppenstedt", dict(sector=Sector.GESUNDHEIT, district=LG)),
    (
        "Hallo! 👋 Ich bin Bäckerin aus Uelzen 🥐",
        dict(situation=BE, sector=Sector.HANDWERK, district=UE),
    ),
    (
        "Mein Chef bezahlt mir die Fortbildung zum Fachwirt",
        dict(situation=BE, goal=Goal.AUFSTIEG),
    ),
    (
        "Hallo, ich bin gelernte Einzelhandelskauffrau aus Buchholz i.d.N. und seit einem Jahr arbeitslos",
        dict(situation=AS, sector=Sector.HANDEL, district=WL, place="Buchholz in der Nordheide"),
    ),
    ("Ich bin nicht arbeitslos, sondern angestellt", dict(situation=BE)),
    ("Ich bin nicht mehr arbeitslos", dict(situation=None)),
    ("keine Umschulung, lieber eine Weiterbildung", dict(goal=Goal.WEITERBILDUNG)),
    ("Studium ohne Abitur", dict(goal=Goal.STUDIUM, situation=None)),
    ("Ich habe keinen Berufsabschluss", dict(goal=Goal.UMSCHULUNG)),
    ("Ich habe eine Ausbildung als Koch und bin arbeitslos", dict(situation=AS, goal=None)),
    ("Teilqualifizierung für Ungelernte", dict(goal=Goal.UMSCHULUNG)),
    ("Wie kann ich Meister-BAföG beantragen?", dict(goal=Goal.AUFSTIEG)),
    ("Wer finanziert das?", dict(goal=Goal.FOERDERUNG)),
    ("Ich möchte mich beraten lassen", dict(goal=Goal.BERATUNG)),
    ("Ich möchte mich ausbilden lassen", dict(goal=Goal.AUSBILDUNG, situation=None)),
    # single-word (or nearly) answers to a question
    ("Handwerk", dict(sector=Sector.HANDWERK, situation=None, goal=None, district=None)),
    ("Pflege", dict(sector=Sector.GESUNDHEIT)),
    ("Landwirtschaft", dict(sector=Sector.LANDWIRTSCHAFT)),
    ("Gärtner", dict(sector=Sector.LANDWIRTSCHAFT)),
    ("Industriemechaniker", dict(sector=Sector.INDUSTRIE)),
    ("Mechatroniker", dict(sector=Sector.INDUSTRIE)),
    ("KFZ-Mechatroniker", dict(sector=Sector.HANDWERK)),
    ("Kauffrau im Einzelhandel", dict(sector=Sector.HANDEL)),
    ("Programmierer", dict(sector=Sector.IT)),
    ("IT", dict(sector=Sector.IT)),
    ("Spedition", dict(sector=Sector.LOGISTIK)),
    ("Restaurant", dict(sector=Sector.GASTRONOMIE)),
    ("Behörde", dict(sector=Sector.OEFFENTLICH)),
    ("MFA", dict(sector=Sector.GESUNDHEIT)),
    ("keine Ahnung", dict(sector=Sector.UNBEKANNT, keywords=())),
    ("weiß nicht", dict(sector=Sector.UNBEKANNT)),
    ("Arbeitgeber", dict(situation=B)),
    ("ich bin Azubi", dict(situation=SC)),
    ("arbeitssuchend", dict(situation=AS)),
    ("Ausbildung", dict(goal=Goal.AUSBILDUNG, situation=None)),
    ("ich suche eine Ausbildung", dict(goal=Goal.AUSBILDUNG, situation=None)),
    ("Anerkennung", dict(goal=Goal.ANERKENNUNG, situation=AU)),
    ("Meister", dict(goal=Goal.AUFSTIEG)),
    ("Uelzen", dict(district=UE, place="Uelzen", outside=False)),
    ("21423", dict(district=WL, postcode="21423")),
    ("aus 21335", dict(district=LG)),
    ("Kaltenmoor", dict(district=LG, place="Lüneburg")),
    ("Maschen", dict(district=WL, place="Seevetal")),
    ("LK Uelzen", dict(district=UE, place=None)),
    ("Landkreis Harburg", dict(district=WL)),
    ("Wendland", dict(district=DAN)),
    ("DAN", dict(district=DAN)),
    # typos
    ("Tischlr", dict(sector=Sector.HANDWERK, keywords=("tischler",))),
    ("Pflegekraf", dict(sector=Sector.GESUNDHEIT)),
    ("Umschuhlung", dict(goal=Goal.UMSCHULUNG)),
    ("Ich wohne in Lühneburg", dict(district=LG, place="Lüneburg")),
    ("Winsn", dict(district=WL)),
    ("Ich komme aus Bad Bevensen", dict(district=UE, place="Bad Bevensen")),
    ("Elektricker in Lüchow", dict(sector=Sector.HANDWERK, district=DAN)),
    ("Weiterbildnug", dict(goal=Goal.WEITERBILDUNG)),
    # ambiguous and combined places
    (
        "Barum",
        dict(district=None, place="Barum", place_candidates=(("Barum", LG), ("Barum", UE))),
    ),
    ("Ich wohne in Hanstedt", dict(district=None, place="Hanstedt")),
    ("Hanstedt 29582", dict(district=UE, place="Hanstedt", place_candidates=())),
    ("Barum bei Lüneburg", dict(district=LG, place="Barum")),
    ("Ich wohne in 21357 Barum", dict(district=LG, place="Barum")),
    ("21423 Winsen", dict(district=WL, place="Winsen (Luhe)")),
    ("Ich wohne in Winsen, arbeite aber in Lüneburg", dict(district=WL)),
    ("Ich wohne in Stelle", dict(district=WL, place="Stelle")),
    # outside the region
    ("Ich wohne in Hamburg", dict(district=OUT, outside=True)),
    ("20095", dict(district=OUT, outside=True, postcode="20095")),
    ("10115 Berlin", dict(district=OUT, outside=True)),
    ("Ich wohne woanders", dict(outside=True, district=OUT)),
    ("außerhalb", dict(outside=True)),
    ("Ich wohne in einem anderen Bundesland", dict(outside=True)),
    ("Ich ziehe von Berlin nach Lüneburg", dict(district=LG, outside=False)),
    # negative cases: nothing (or at least no place) must be recognised
    ("ich suche eine Stelle", dict(district=None, place=None)),
    ("Wir haben eine Welle von Anfragen bekommen", dict(district=None, place=None)),
    ("Die Stelle ist schon besetzt", dict(district=None)),
    ("Er trägt eine Weste", dict(district=None)),
    ("Der Otter schwimmt im Fluss", dict(district=None)),
    ("LG Anna", dict(district=None)),
    ("Ich habe 20000 Euro Schulden", dict(district=None, postcode=None)),
    ("Meine Telefonnummer ist 04131 123456", dict(district=None, postcode=None, outside=False)),
    ("Wir fahren am Wochenende an die Küste", dict(sector=None, district=None)),
    ("Ich suche einen Kurs außerhalb der Arbeitszeit in Uelzen", dict(outside=False, district=UE)),
]

NOTHING = [
    "Hallo, ich habe eine Frage.",
    "Das Wetter ist heute schön und die Sonne scheint.",
    "Können Sie mir sagen, wie das funktioniert?",
    "Ich warte auf eine Antwort von Ihnen.",
    "Warum dauert das so lange?",
    "Ich will nach Hause.",
    "Mein Name ist Anna.",
    "Ich habe viele Sachen gemacht.",
]

INTENTS = [
    ("ja", "yes"),
    ("Ja!", "yes"),
    ("ja gerne", "yes"),
    ("ok", "yes"),
    ("👍", "yes"),
    ("nein", "no"),
    ("nee", "no"),
    ("Nein, danke.", "no"),
    ("zurück", "back"),
    ("zurueck", "back"),
    ("Zurück bitte", "back"),
    ("neu", "restart"),
    ("von vorne", "restart"),
    ("Neustart", "restart"),
    ("hilfe", "help"),
    ("Hilfe!", "help"),
    ("?", "help"),
    ("abbrechen", "cancel"),
    ("stopp", "cancel"),
    ("Tschüss", "cancel"),
    ("mehr", "more"),
    ("weitere", "more"),
    ("mehr anzeigen", "more"),
    ("go back", "back"),
    ("back please", "back"),
    ("start over", "restart"),
    ("restrat", "restart"),  # a swapped pair of letters
    ("help me", "help"),
    ("i dont understand", "help"),
    ("cancle", "cancel"),
    ("quit", "cancel"),
    ("show more", "more"),
    ("yes please", "yes"),
    ("nope", "no"),
]

NOT_INTENTS = [
    ("ja, ich bin arbeitslos in Uelzen", dict(situation=AS, district=UE)),
    ("ich brauche Hilfe bei der Finanzierung", dict(goal=Goal.FOERDERUNG)),
    ("Ich möchte mehr über Umschulung wissen", dict(goal=Goal.UMSCHULUNG)),
    ("nein, ich wohne in Winsen", dict(district=WL)),
    ("zurück in den Beruf nach der Elternzeit", dict(situation=WI)),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.bundled()


def _check(u: Understanding, expected: dict[str, Any], text: str) -> None:
    for name, want in expected.items():
        got = getattr(u, name)
        assert got == want, f"{text!r}: {name} = {got!r}, expected {want!r} (full: {u})"


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 70
    assert len(CATEGORIES["english"]) >= 80
    assert len(CATEGORIES["simple_german"]) >= 40
    assert len(CATEGORIES["mixed"]) >= 60
    assert len(CASES) + sum(len(rows) for rows in CATEGORIES.values()) >= 300


TABLE = [row for rows in CATEGORIES.values() for row in rows]


def test_no_row_fills_a_wrong_situation_silently(gaz: Gazetteer) -> None:
    """A question ("Arbeitgeber oder beschäftigt?") is fine; a wrong guess is not."""
    _, silent_wrong = score([*CASES, *TABLE], lambda text: understand(text, gaz))
    assert silent_wrong == []


@pytest.mark.parametrize("slot", SLOTS)
def test_precision_and_recall_per_slot(gaz: Gazetteer, slot: str) -> None:
    scores, _ = score([*CASES, *TABLE], lambda text: understand(text, gaz))
    s = scores[slot]
    assert s.precision >= 0.95, (slot, s)
    if slot != "sector":  # the issue's recall targets: situation, district, goal
        assert s.recall >= 0.95, (slot, s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [row for row in TABLE if expected_situation(row[1])[1] is not None or "ask" in row[1]],
    ids=lambda v: v[:40] if isinstance(v, str) else "",
)
def test_table_situations(gaz: Gazetteer, text: str, expected: dict[str, Any]) -> None:
    """Every situation of the table is read, or the row's either/or question is asked."""
    u = understand(text, gaz)
    if "ask" in expected:
        assert u.situation is None and set(u.situation_choice) == set(expected["ask"]), u
    elif u.situation is None:
        pytest.xfail(f"missed (the dialog asks): {text!r}")  # counted in the recall test
    else:
        assert u.situation == expected["situation"], u


@pytest.mark.parametrize(
    ("text", "situation", "district", "sector", "goal"),
    [
        (
            "I am a nurse from the Philippines living in Buchholz, my degree is not recognised yet",
            AU,
            WL,
            Sector.GESUNDHEIT,
            Goal.ANERKENNUNG,
        ),
        (
            "Ich komme aus Syrien. Ich bin Elektriker. Ich habe Zeugnis von Schule in Syrien.",
            AU,
            None,
            Sector.HANDWERK,
            None,
        ),
        (
            "Ich habe meine Ausbildung abgeschlossen, Betrieb in 21629, will mich weiterbilden",
            BE,
            WL,
            None,
            Goal.WEITERBILDUNG,
        ),
    ],
)
def test_the_three_reproductions_of_issue_10(
    gaz: Gazetteer,
    text: str,
    situation: Situation,
    district: District | None,
    sector: Sector | None,
    goal: Goal | None,
) -> None:
    u = understand(text, gaz)
    assert (u.situation, u.district, u.sector, u.goal) == (situation, district, sector, goal)


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("nach der elternzeit arbeitslos", {WI, AS}),
        ("ich studiere und arbeite teilzeit", {SC, BE}),
        ("mein Betrieb sucht jemanden, ich bin aber auch selbstständig", None),
    ],
)
def test_level_readings_become_an_either_or_question(
    gaz: Gazetteer, text: str, pair: set[Situation] | None
) -> None:
    u = understand(text, gaz)
    if pair is None:
        assert u.situation is Situation.BETRIEB and u.situation_choice == ()
    else:
        assert u.situation is None and set(u.situation_choice) == pair
        assert not u.empty


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_phrasings(gaz: Gazetteer, text: str, expected: dict[str, Any]) -> None:
    _check(understand(text, gaz), expected, text)


@pytest.mark.parametrize("text", NOTHING)
def test_sentences_without_slots(gaz: Gazetteer, text: str) -> None:
    u = understand(text, gaz)
    assert (u.situation, u.district, u.sector, u.goal, u.place, u.intent) == (None,) * 6, u
    assert u.place_candidates == () and not u.outside
    assert u.empty


@pytest.mark.parametrize(("text", "intent"), INTENTS)
def test_intents(gaz: Gazetteer, text: str, intent: str) -> None:
    u = understand(text, gaz)
    assert u.intent == intent, u
    assert u.keywords == ()


@pytest.mark.parametrize(("text", "expected"), NOT_INTENTS)
def test_intent_words_inside_longer_messages(gaz: Gazetteer, text: str, expected: dict[str, Any]) -> None:
    u = understand(text, gaz)
    assert u.intent is None
    _check(u, expected, text)


def test_keywords_are_lowercased_content_words(gaz: Gazetteer) -> None:
    u = understand("Ich bin Dachdecker aus Winsen und will meinen Meister machen", gaz)
    assert u.keywords == ("dachdecker", "meister")
    assert "winsen" not in u.keywords


def test_negated_words_are_no_keywords(gaz: Gazetteer) -> None:
    assert "arbeitslos" not in understand("Ich bin nicht arbeitslos", gaz).keywords


def test_understanding_is_frozen(gaz: Gazetteer) -> None:
    u = understand("Uelzen", gaz)
    with pytest.raises(AttributeError):
        u.district = District.HARBURG  # type: ignore[misc]


# --- robustness ------------------------------------------------------------------------------------

WEIRD = [
    "",
    " ",
    "\n\t\r",
    "Ich bin Dachdecker 🏠🔨 aus Winsen " * 160,  # ~5,000 characters
    "x" * 5000,
    "🙂" * 5000,
    "\x00\x01\x02\x1b[31m Lüneburg \x7f",
    "\u202e\u200fمرحبا أنا من لونبورغ وأبحث عن عمل",
    "שלום, אני גר בלונבורג",
    "'; DROP TABLE users; --",
    "Robert'); DELETE FROM offers WHERE 1=1;--",
    "<script>alert(1)</script>",
    "\ud800\udfff lone surrogates",
    "%s %d {0} {{}} ${x}",
    "21423" * 1000,
    "Z͑ͫ̓ͪ̂ͫ̽͏̴̙̤̞͉͚̯̞̠͍A̴̵̜̰͔ͫ͗͢L̠ͨͧͩ͘G̴̻͈͍͔̹̑͗̎̅͛́Ǫ̵̹̻̝̳͂̌̌͘",
]


@pytest.mark.parametrize("text", WEIRD, ids=range(len(WEIRD)))
def test_odd_input_never_raises(gaz: Gazetteer, text: str) -> None:
    u = _understand(text, gaz, bundled_lexicon())
    assert isinstance(u, Understanding)
    assert len(u.keywords) <= 20


def test_long_message_only_start_is_read(gaz: Gazetteer) -> None:
    text = "bla " * 200 + "Ich wohne in Uelzen"
    assert understand(text, gaz).district is None
    assert understand("Ich wohne in Uelzen " + "bla " * 1500, gaz).district is UE


def test_non_string_input_does_not_raise(gaz: Gazetteer) -> None:
    assert understand(None, gaz) == Understanding()  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_fuzz_never_raises(text: str) -> None:
    # The inner function: understand() would hide a bug behind its last-resort fallback.
    u = _understand(text, Gazetteer.bundled(), bundled_lexicon())
    assert u.district is None or isinstance(u.district, District)
    assert u.district is not None or not u.place or u.place_candidates


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(bundled_lexicon().exact)), max_size=12))
def test_fuzz_lexicon_soup_never_raises(words: list[str]) -> None:
    _understand(" ".join(words), Gazetteer.bundled(), bundled_lexicon())


# --- lexicon data ------------------------------------------------------------------------------------


def test_lexicon_is_generous() -> None:
    lex = bundled_lexicon()
    sector_terms = [k for k, m in lex.exact.items() if m.sector is not None]
    assert len(sector_terms) >= 150
    assert {m.sector for m in lex.exact.values()} >= set(Sector)
    assert {m.situation for m in lex.exact.values()} >= set(Situation)
    assert {m.goal for m in lex.exact.values()} >= set(Goal)


def test_no_lexicon_term_reads_as_a_place(gaz: Gazetteer) -> None:
    lex = bundled_lexicon()
    for term in [*lex.exact, *lex.prefixes]:
        assert gaz.find_places(term, known_words=lex.known_words) == [], term


@pytest.mark.parametrize(
    "error",
    [
        KeyError("Schmidtbauer"),
        ValueError("Diagnose Depression bei Schmidtbauer"),
        UnicodeDecodeError("utf-8", b"Schmidtbauer", 0, 1, "Schmidtbauer"),
    ],
)
def test_a_failure_is_logged_without_the_message(
    gaz: Gazetteer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    import knowledge.understanding as module

    def broken(text: str, *_: object) -> Understanding:
        raise error

    monkeypatch.setattr(module, "_understand", broken)
    with caplog.at_level(logging.ERROR, logger="knowledge.understanding"):
        assert understand("Mein Name ist Schmidtbauer, Diagnose Depression", gaz) == Understanding()
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[2] is not None  # the traceback is there
    assert type(error).__name__ in caplog.text
    assert "schmidtbauer" not in caplog.text.lower() and "depression" not in caplog.text.lower()
