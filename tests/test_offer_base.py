"""Checks of the bundled offer base (knowledge/data/*.yaml) against the schemas and the editorial rules.

The files are read with plain pyyaml and validated with the pydantic models, independent of the production
loader, so a broken data file fails here with the exact entry and field.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from knowledge.schema import (
    Institution,
    InstitutionsFile,
    Offer,
    OffersFile,
    Scope,
    SourcesFile,
)
from knowledge.vocabulary import GOALS_BY_SITUATION, REGION_DISTRICTS, District, Goal, Situation

DATA = Path(__file__).resolve().parents[1] / "knowledge" / "data"

# The only phone numbers a source gives: RLSB, the Arbeitgeber-Hotline and (since the regional search of
# 1.12.2026) the agency's free service number, printed in its press releases Nr. 40/2023 and Nr. 70/2025.
SOURCED_PHONES = {"04131 15-2626", "0800 4 5555 20", "0800 4 5555 00"}
# Other spellings of the service number are not how the sources print it: keep one form in the data.
UNVERIFIED_PHONES = ("0800 455 5500", "0800 4555500")

MONEY_OR_RATE = re.compile(r"\d[\d.,]*\s*(?:€|%|Euro\b|EUR\b|Prozent)")
PHONE_LIKE = re.compile(r"\b0\d{2,4}[ /-]?\d[\d -]{4,}\d\b")
EXPIRED = re.compile(r"\bWiN\b|Weiterbildung in Niedersachsen", re.IGNORECASE)


def _load(name: str) -> dict:
    with (DATA / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def offers() -> list[Offer]:
    return OffersFile.model_validate(_load("offers.yaml")).offers


@pytest.fixture(scope="module")
def institutions() -> InstitutionsFile:
    return InstitutionsFile.model_validate(_load("institutions.yaml"))


@pytest.fixture(scope="module")
def sources() -> SourcesFile:
    return SourcesFile.model_validate(_load("sources.yaml"))


def _offer_texts(offer: Offer) -> list[str]:
    texts = [offer.title, offer.summary, offer.summary_en or "", offer.next_step, offer.legal_basis or ""]
    texts += [a.text for a in offer.amounts] + [a.stand for a in offer.amounts] + list(offer.keywords)
    return texts


def _citing(offers: list[Offer], institutions: InstitutionsFile) -> list[Offer | Institution]:
    return [*offers, *institutions.institutions]


# --- shape and counts ---------------------------------------------------------------------------------


def test_files_validate_and_have_enough_entries(
    offers: list[Offer], institutions: InstitutionsFile, sources: SourcesFile
) -> None:
    assert len(offers) >= 40
    assert len(institutions.institutions) >= 12
    assert sources.attribution.strip()
    assert sources.sources


def test_ids_are_unique(offers: list[Offer], institutions: InstitutionsFile, sources: SourcesFile) -> None:
    for ids in (
        [o.id for o in offers],
        [i.id for i in institutions.institutions],
        [s.id for s in sources.sources],
    ):
        dupes = [k for k, n in Counter(ids).items() if n > 1]
        assert not dupes, f"duplicate ids: {dupes}"


def test_attribution_file_exists() -> None:
    text = (DATA / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "sources.yaml" in text
    assert "Beratung" in text


# --- references ---------------------------------------------------------------------------------------


def test_every_provider_exists(offers: list[Offer], institutions: InstitutionsFile) -> None:
    known = {i.id for i in institutions.institutions}
    missing = {o.id: o.provider for o in offers if o.provider not in known}
    assert not missing, f"unknown providers: {missing}"


def test_every_cited_source_exists(
    offers: list[Offer], institutions: InstitutionsFile, sources: SourcesFile
) -> None:
    known = {s.id for s in sources.sources}
    for entry in _citing(offers, institutions):
        unknown = [s for s in entry.sources if s not in known]
        assert not unknown, f"{entry.id} cites unknown sources {unknown}"


def test_every_listed_source_is_cited(
    offers: list[Offer], institutions: InstitutionsFile, sources: SourcesFile
) -> None:
    cited = {s for entry in _citing(offers, institutions) for s in entry.sources}
    unused = [s.id for s in sources.sources if s.id not in cited]
    assert not unused, f"sources nobody cites: {unused}"


# --- coverage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("district", REGION_DISTRICTS, ids=lambda d: d.value)
@pytest.mark.parametrize("situation", list(Situation), ids=lambda s: s.value)
def test_every_district_and_situation_has_an_offer(
    offers: list[Offer], district: District, situation: Situation
) -> None:
    hits = [o.id for o in offers if situation in o.situations and o.serves_district(district)]
    assert hits, f"no offer for {situation} in {district}"


@pytest.mark.parametrize(
    ("situation", "goal"),
    [(s, g) for s, goals in GOALS_BY_SITUATION.items() for g in goals],
    ids=lambda v: v.value,
)
def test_every_situation_goal_pair_has_offers(offers: list[Offer], situation: Situation, goal: Goal) -> None:
    hits = [o.id for o in offers if situation in o.situations and goal in o.goals]
    assert len(hits) >= 2, f"only {hits} for ({situation}, {goal})"


def test_outside_region_still_gets_offers_for_every_situation(offers: list[Offer]) -> None:
    for situation in Situation:
        hits = [o for o in offers if situation in o.situations and o.serves_district(District.AUSSERHALB)]
        assert hits, f"nothing for {situation} outside the region"


def test_regional_offers_name_their_districts(offers: list[Offer]) -> None:
    for o in offers:
        if o.scope is Scope.REGION:
            assert o.districts != "all", f"{o.id}: regional offer should list its districts"


# --- editorial rules ----------------------------------------------------------------------------------


def test_figures_carry_their_stand(offers: list[Offer]) -> None:
    for o in offers:
        for field in (o.summary, o.next_step):
            if MONEY_OR_RATE.search(field):
                assert o.amounts, f"{o.id}: amount in text but no amounts with a stand"
        for a in o.amounts:
            assert a.stand.strip(), f"{o.id}: amount without 'Stand'"


def test_summaries_keep_figures_in_amounts(offers: list[Offer]) -> None:
    offenders = [o.id for o in offers if MONEY_OR_RATE.search(o.summary) or MONEY_OR_RATE.search(o.next_step)]
    assert not offenders, f"put amounts into `amounts`, not into summary/next_step: {offenders}"


def test_no_expired_programme_is_offered(offers: list[Offer], sources: SourcesFile) -> None:
    for o in offers:
        for text in _offer_texts(o):
            assert not EXPIRED.search(text), f"{o.id} mentions the expired WiN programme: {text!r}"
    for s in sources.sources:
        assert not EXPIRED.search(s.title), f"source {s.id} belongs to the expired WiN programme"


def test_institution_phones_are_only_the_sourced_ones(institutions: InstitutionsFile) -> None:
    for inst in institutions.institutions:
        if inst.phone is not None:
            assert inst.phone in SOURCED_PHONES, f"{inst.id}: unsourced phone {inst.phone!r}"


def test_no_unsourced_phone_number_in_texts(offers: list[Offer], institutions: InstitutionsFile) -> None:
    texts = [t for o in offers for t in _offer_texts(o)]
    texts += [i.summary for i in institutions.institutions]
    for text in texts:
        for bad in UNVERIFIED_PHONES:
            assert bad not in text
        for match in PHONE_LIKE.findall(text):
            assert match.strip() in SOURCED_PHONES, f"unsourced phone-like number {match!r} in {text!r}"


def test_no_email_addresses(offers: list[Offer], institutions: InstitutionsFile) -> None:
    assert all(i.email is None for i in institutions.institutions)
    for o in offers:
        for text in _offer_texts(o):
            assert "@" not in text, f"{o.id}: e-mail address in text"


def test_every_offer_has_english_summary_and_lowercase_keywords(offers: list[Offer]) -> None:
    for o in offers:
        assert o.summary_en, f"{o.id}: missing summary_en"
        assert o.keywords, f"{o.id}: no keywords"
        assert all(k == k.lower() for k in o.keywords), f"{o.id}: keywords must be lowercase"


def test_compiled_on_is_the_compilation_date_and_no_file_claims_a_check(offers: list[Offer]) -> None:
    assert {o.compiled_on.isoformat() for o in offers} == {"2026-11-25", "2026-11-30", "2026-12-01"}
    assert all(o.verified_on is None and o.verified_by is None for o in offers)
