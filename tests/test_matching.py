"""Ranking: hard filters, soft scores, reasons; deterministic."""

from __future__ import annotations

from knowledge.base import KnowledgeBase
from knowledge.matching import Profile, rank
from knowledge.vocabulary import District, Goal, Sector, Situation


def test_hard_filters_keep_only_offers_for_the_situation_and_district(kb: KnowledgeBase) -> None:
    profile = Profile(Situation.SCHULE, District.UELZEN, Sector.GESUNDHEIT, Goal.AUSBILDUNG)
    matches = rank(kb.offers, profile)
    assert matches
    for m in matches:
        assert Situation.SCHULE in m.offer.situations
        assert m.offer.serves_district(District.UELZEN)


def test_goal_and_sector_fits_rank_first_and_are_explained(kb: KnowledgeBase) -> None:
    matches = rank(
        kb.offers, Profile(Situation.BESCHAEFTIGT, District.LUENEBURG, Sector.HANDWERK, Goal.AUFSTIEG)
    )
    top = matches[0]
    assert Goal.AUFSTIEG in top.offer.goals
    keys = {r.key for r in top.reasons}
    assert {"reason.situation", "reason.goal"} <= keys
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)


def test_offers_for_other_sectors_sink_below_general_ones(kb: KnowledgeBase) -> None:
    matches = rank(
        kb.offers, Profile(Situation.BESCHAEFTIGT, District.UELZEN, Sector.GESUNDHEIT, Goal.AUFSTIEG)
    )
    ids = [m.offer.id for m in matches]
    foreign = [
        i
        for i, m in enumerate(matches)
        if m.offer.sectors != "all" and Sector.GESUNDHEIT not in m.offer.sectors
    ]
    general = [i for i, m in enumerate(matches) if m.offer.sectors == "all"]
    assert ids
    if foreign and general:
        assert min(foreign) > min(general)


def test_keywords_lift_matching_offers(kb: KnowledgeBase) -> None:
    base = Profile(Situation.AUSLAND, District.HARBURG, None, Goal.ANERKENNUNG)
    plain = [m.offer.id for m in rank(kb.offers, base)]
    keyed = rank(kb.offers, Profile(base.situation, base.district, None, base.goal, ("zuschuss",)))
    assert keyed[0].offer.id == "anerkennungszuschuss" or any(
        r.key == "reason.keyword" for r in keyed[0].reasons
    )
    assert sorted(plain) == sorted(m.offer.id for m in keyed)


def test_ranking_is_deterministic(kb: KnowledgeBase) -> None:
    p = Profile(Situation.ARBEITSUCHEND, District.LUECHOW_DANNENBERG, Sector.UNBEKANNT, Goal.UMSCHULUNG)
    assert [m.offer.id for m in rank(kb.offers, p)] == [
        m.offer.id for m in rank(list(reversed(kb.offers)), p)
    ]


def test_outside_region_excludes_regional_offers(kb: KnowledgeBase) -> None:
    matches = rank(kb.offers, Profile(Situation.BETRIEB, District.AUSSERHALB, None, Goal.FOERDERUNG))
    assert matches and all(m.offer.scope != "region" for m in matches)
