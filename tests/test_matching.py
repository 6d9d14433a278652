"""Ranking: hard filters, soft scores, reasons; deterministic."""

from __future__ import annotations

import random

from knowledge.base import KnowledgeBase
from knowledge.matching import Profile, rank
from knowledge.ranking import OfferIndex
from knowledge.vocabulary import District, Goal, Sector, Situation
from tests import synthetic_offers


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


def test_the_index_gives_exactly_the_first_offers_of_the_ranking() -> None:
    offers, words = synthetic_offers.offers(3000, seed=11)
    index = OfferIndex(offers)
    rng = random.Random(5)
    for _ in range(300):
        keywords = tuple(rng.sample(words, rng.randint(0, 3)))
        if keywords and rng.random() < 0.5:  # a typo: fuzzy hits, not only exact ones
            word = keywords[0]
            keywords = (word[:2] + word[3:], *keywords[1:])
        profile = Profile(
            rng.choice(list(Situation)),
            rng.choice(list(District)),
            rng.choice([None, *Sector]),
            rng.choice([None, *Goal]),
            keywords,
        )
        n = rng.choice([0, 5, 10, 15])
        full = rank(offers, profile)
        top, total = index.top(profile, n)
        assert total == len(full)
        assert [(m.offer.id, m.score, m.reasons) for m in top] == [
            (m.offer.id, m.score, m.reasons) for m in full[:n]
        ]
