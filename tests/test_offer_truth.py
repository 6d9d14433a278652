"""What users are told about where facts come from, how old they are and who checked them.

Everything is asserted on the text a user reads (offer details and contacts through the dialog):
no check date that nobody made, a visible "please confirm" on vaguely dated amounts, no
unverified programme, a closed programme only with its status, and a person's check only when a
person made it (and a reload of the YAML does not wipe it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from db.audit import AuditEntry
from db.engine import make_engine, session_scope
from db.offer_store import read_offer_base, upsert_offer_base, verify_offer
from knowledge.base import KnowledgeBase
from knowledge.loader import load_offer_base
from knowledge.matching import Profile, rank
from knowledge.schema import Amount
from knowledge.vocabulary import GOALS_BY_SITUATION, District, Situation
from tests.dialog_driver import DialogDriver

BERLIN = ZoneInfo("Europe/Berlin")
UNSEEN_ADDRESS_OFFERS = (
    "beschaeftigtenqualifizierung_82",
    "bildungsgutschein",
    "berufsberatung_erwerbsleben",
    "berufsberatung_agentur",
    "eq_jugendliche",
    "eq_betriebe",
    "asa_flex_azubis",
    "asa_flex_betriebe",
    "bab",
    "mobilitaetszuschuss",
)
VAGUE_AMOUNT_OFFERS = (
    "aufstiegs_bafoeg",
    "aufstiegsstipendium",
    "teilqualifikationen",
    "bildungsurlaub_niedersachsen",
    "bbs_buchholz",
    "lwk_meisterkurse_seminare",
)
CONFIRM = "Bitte in der Beratung bestätigen"
REGION = [d for d in District if d is not District.AUSSERHALB]


@pytest.fixture
def user(kb: KnowledgeBase) -> DialogDriver:
    return DialogDriver(kb)


def details(user: DialogDriver, offer_id: str) -> str:
    user.command("start")
    user.option(f"offer:{offer_id}")
    return user.text_out


def results(user: DialogDriver, situation: str, district: District, sector: str, goal: str) -> list[str]:
    user.command("start")
    for option in (f"sit:{situation}", f"dist:{district.value}", f"sec:{sector}", f"goal:{goal}"):
        user.option(option)
    seen: list[str] = []
    while True:
        seen += user.offer_ids()
        if "nav:more" not in user.option_ids():
            return seen
        user.option("nav:more")


def test_no_offer_claims_a_check_nobody_made(user: DialogDriver, kb: KnowledgeBase) -> None:
    for offer in kb.offers:
        text = details(user, offer.id)
        assert "geprüft am" not in text, offer.id
        assert f"zusammengestellt am {offer.compiled_on:%d.%m.%Y}; nicht live geprüft" in text
        assert "Von einer Person geprüft" not in text


@pytest.mark.parametrize("offer_id", UNSEEN_ADDRESS_OFFERS)
def test_an_address_never_seen_in_a_source_says_so_with_the_sources_date(
    user: DialogDriver, offer_id: str
) -> None:
    text = details(user, offer_id)
    assert "diese genaue Adresse stand in keiner unserer Quellen und wurde nicht geprüft" in text
    assert "Stand der Quellen: " in text


def test_contacts_with_an_unseen_web_address_say_so(user: DialogDriver) -> None:
    user.command("start")
    user.option("contact:bab")  # Agentur für Arbeit Lüneburg-Uelzen
    assert "Agentur für Arbeit Lüneburg-Uelzen" in user.text_out
    assert "Adresse nicht in unseren Quellen gesichtet" in user.text_out
    user.option("contact:aufstiegsstipendium")  # SBB: its address was seen in a source
    assert "Internet: https://" in user.text_out and "nicht in unseren Quellen" not in user.text_out


def test_the_unverified_orientation_internship_is_not_offered(user: DialogDriver, kb: KnowledgeBase) -> None:
    assert "berufsorientierungspraktikum" not in kb.offers_by_id
    for district in REGION:
        for goal in ("foerderung", "beratung", "ausbildung"):
            shown = results(user, "schule", district, "unbekannt", goal)
            assert shown and "berufsorientierungspraktikum" not in shown
    user.command("start")
    user.option("offer:berufsorientierungspraktikum")  # an old button
    assert "48a" not in user.text_out and "Berufsorientierungspraktikum" not in user.text_out


def test_the_network_says_only_what_its_source_says(user: DialogDriver) -> None:
    text = details(user, "vernetzte_bildungsraeume")
    assert "Veranstaltung" not in text and "bündelt" not in text
    assert "Rundschreiben 2/2024 des Arbeitgeberverbands" in text
    # its announcement prints the page's exact address: no "never seen" note, but nothing claims a live check
    assert "https://www.arbeitsagentur.de/vor-ort/lueneburg-uelzen/vernetzte-bildungsraeume" in text
    assert "stand in keiner unserer Quellen" not in text and "nicht live geprüft" in text


@pytest.mark.parametrize("offer_id", VAGUE_AMOUNT_OFFERS)
def test_vaguely_dated_amounts_ask_for_confirmation_with_the_source_year(
    user: DialogDriver, kb: KnowledgeBase, offer_id: str
) -> None:
    text = details(user, offer_id)
    vague = [a for a in kb.offers_by_id[offer_id].amounts if a.needs_confirmation]
    assert vague
    assert text.count(CONFIRM) == len(vague)
    for amount in vague:
        after = text.split(amount.text, 1)[1].split("\n")[1]
        assert CONFIRM in after
        if amount.source_year is not None:
            assert f"die Quelle ist von {amount.source_year}" in after
        else:
            assert "die Quelle nennt kein Datum" in after


def test_bab_amount_carries_the_check_before_use_note(user: DialogDriver) -> None:
    text = details(user, "bab")
    assert "822 €" in text
    assert "die Quelle ist von 2024" in text
    assert "Hinweis: Laut Faktenbasis des Netzwerks vor Nutzung zu prüfen" in text


def test_an_undated_stand_cannot_pass_as_exact() -> None:
    with pytest.raises(ValidationError, match="stand_precision"):
        Amount(text="100 €", stand="laut Broschüre (ohne Datumsangabe)")
    with pytest.raises(ValidationError, match="source_year"):
        Amount(text="100 €", stand="Stand 2023", stand_precision="vague")


def test_a_closed_round_is_not_ranked_but_named_with_its_status_when_asked(user: DialogDriver) -> None:
    for district in REGION:
        assert "weiterbildungspraemie_meister" not in results(
            user, "beschaeftigt", district, "industrie", "aufstieg"
        )
    user.text("Gibt es noch die Weiterbildungsprämie für Industriemeister?")
    assert (
        "Nicht mehr aktuell – abgeschlossen: Weiterbildungsprämie für Industrie- und Fachmeister"
        in user.text_out
    )
    user.press("Weiterbildungsprämie")
    assert "Abgeschlossen: Die zuletzt bekannte Förderrunde ist abgeschlossen" in user.text_out
    assert "1.000 €" in user.text_out


def test_a_persons_check_is_shown_kept_across_a_reload_and_audited(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        upsert_offer_base(session, load_offer_base())
    checked_at = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # already 1 December in Berlin
    with session_scope(engine) as session:
        assert verify_offer(session, "bab", "Anna Muster", checked_at, BERLIN)
        assert not verify_offer(session, "gibt_es_nicht", "Anna Muster", checked_at, BERLIN)
    with session_scope(engine) as session:  # the YAML is loaded again, e.g. after an edit
        report = upsert_offer_base(session, load_offer_base())
        assert (report.added, report.removed) == (0, 0)
    with Session(engine) as session:
        kb = KnowledgeBase.from_offer_base(read_offer_base(session))
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "offer_verified")).all()
    engine.dispose()
    assert (entry.detail["offer"], entry.detail["verified_by"]) == ("bab", "Anna Muster")
    assert entry.at == checked_at
    user = DialogDriver(kb)
    assert "Von einer Person geprüft am 01.12.2026." in details(user, "bab")
    assert "Von einer Person geprüft" not in details(user, "bildungsgutschein")


# Cells without a regional contact that fits the goal. Empty since the regional search of 1.12.2026 (the
# chambers' recognition advice closed "ausländischer Abschluss × Anerkennung"); ATTRIBUTION.md says what the
# sources do not name. A cell that loses its last regional contact shows up here first.
NATIONWIDE_ONLY: set[tuple[District, Situation, str]] = set()
LOCAL = "Kreis"  # a contact for this district alone or with one neighbour (Jobcenter, JBA, Ko-Stelle, BBS …)
REGIONAL = "Region"  # only contacts for all four districts (Agentur, Kammern, Hochschulen …)
NATIONWIDE = "nur bundesweit"


def regional_matrix(kb: KnowledgeBase) -> dict[tuple[District, Situation, str], list[str]]:
    """district × situation × goal -> the regional offers (not the network overview) that fit the goal."""
    matrix: dict[tuple[District, Situation, str], list[str]] = {}
    for district in REGION:
        for situation in Situation:
            for goal in GOALS_BY_SITUATION[situation]:
                matrix[(district, situation, goal.value)] = [
                    m.offer.id
                    for m in rank(kb.offers, Profile(situation, district, None, goal))
                    if m.offer.districts != "all" and goal in m.offer.goals and m.offer.kind != "netzwerk"
                ]
    return matrix


def reach(kb: KnowledgeBase, ids: list[str]) -> str:
    if not ids:
        return NATIONWIDE
    local = any(len(kb.offers_by_id[i].districts) <= 2 for i in ids)
    return LOCAL if local else REGIONAL


def test_matrix_of_regional_contacts_per_district_situation_and_goal(kb: KnowledgeBase) -> None:
    matrix = regional_matrix(kb)
    shown = "\n".join(
        f"{d.value:9} {s.value:14} {g:13} {reach(kb, ids):14} {', '.join(ids[:4])}"
        for (d, s, g), ids in matrix.items()
    )
    nationwide = {cell for cell, ids in matrix.items() if not ids}
    assert nationwide == NATIONWIDE_ONLY, shown
    levels = {reach(kb, ids) for ids in matrix.values()}
    assert levels <= {LOCAL, REGIONAL}, shown
    for district in REGION:
        # school leavers asking for funding, and recognition of a foreign qualification at the chambers
        assert "berufsberatung_agentur" in matrix[(district, Situation.SCHULE, "foerderung")], shown
        recognition = matrix[(district, Situation.AUSLAND, "anerkennung")]
        assert {"anerkennung_ihk_berufe", "anerkennung_handwerk"} <= set(recognition), shown
        # returning to work: the agency's equal-opportunities officer in every district
        assert "bca_chancengleichheit" in matrix[(district, Situation.WIEDEREINSTIEG, "beratung")], shown
        # every district has a contact of its own for returners (Jobcenter or Ko-Stelle)
        assert reach(kb, matrix[(district, Situation.WIEDEREINSTIEG, "beratung")]) == LOCAL, shown
    assert "jugendberufsagentur_lueneburg" in matrix[(District.LUENEBURG, Situation.SCHULE, "beratung")]
    assert "jugendberufsagentur_uelzen" in matrix[(District.UELZEN, Situation.SCHULE, "beratung")]
    assert "kostelle_harburg" in matrix[(District.HARBURG, Situation.WIEDEREINSTIEG, "beratung")]
    for district in (District.LUENEBURG, District.UELZEN):
        assert "kostelle_lueneburg_uelzen" in matrix[(district, Situation.WIEDEREINSTIEG, "beratung")]
    # the Landwirtschaftskammer's Bezirksstelle Uelzen also serves farms in Lüneburg and Lüchow-Dannenberg
    for district in REGION:
        assert "lwk_bezirksstelle_uelzen" in matrix[(district, Situation.BETRIEB, "beratung")], shown


def test_a_returner_in_luechow_is_shown_the_regional_contacts_first(user: DialogDriver) -> None:
    shown = results(user, "wiedereinstieg", District.LUECHOW_DANNENBERG, "unbekannt", "beratung")
    assert shown[:2] == ["jobcenter_luechow_dannenberg", "bca_chancengleichheit"]
    assert "teilzeitausbildung" in shown  # nationwide, after the contacts in the region
    assert "kostelle_harburg" not in shown and "kostelle_lueneburg_uelzen" not in shown


def test_recognition_in_a_craft_puts_the_chamber_of_crafts_first(user: DialogDriver) -> None:
    shown = results(user, "ausland", District.UELZEN, "handwerk", "anerkennung")
    assert shown[0] == "anerkennung_handwerk"
    assert shown.index("anerkennung_ihk_berufe") > shown.index("anerkennung_berufsabschluss")


def test_the_regional_contacts_say_how_old_their_sources_are(user: DialogDriver) -> None:
    text = details(user, "kostelle_lueneburg_uelzen")
    assert "etwa 2017" in text and "aktueller Beleg fehlt" in text
    assert "Februar 2022" in details(user, "kostelle_harburg")
    assert "Berichte der Allgemeinen Zeitung ohne Datum" in details(user, "jugendberufsagentur_uelzen")
    bca = details(user, "bca_chancengleichheit")
    assert "Presseinfo Nr. 49/2023" in bca and "0800 4 5555 00" in bca


def test_new_contacts_do_not_push_the_jobcenter_out_of_the_local_contacts(user: DialogDriver) -> None:
    for district in REGION:
        results(user, "wiedereinstieg", district, "unbekannt", "beratung")
        user.option("nav:contact")
        assert "Kontakt: Jobcenter" in user.text_out, district
