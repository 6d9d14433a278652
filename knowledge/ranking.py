"""The first offers of a ranking without scoring every offer: an index of bit sets over the offers.

`matching.rank` scores each offer one by one (a few microseconds each, plus fuzzy keyword
comparisons). A results page shows five, but every page paid for the whole base: harmless with
the bundled few dozen offers, milliseconds per page with a network-wide base of thousands.

Here each criterion of the score (situation, district served, goal, local/regional contact,
sector, keyword) is the set of offers that meet it, kept as one Python int used as a bit set
(bit i = the i-th offer in id order). The hard filters are then a few ANDs and the total is a
popcount; without keywords an offer's score depends only on which of those sets it is in, so the
candidates fall into a handful of score tiers, walked from the best down in id order until the
page is full. Offers a keyword may hit are few and are scored exactly by `matching`. The result is
`rank(offers, profile)[:n]` exactly (tests/test_matching.py), reasons included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rapidfuzz import fuzz, process

from knowledge.matching import KEYWORD_CUTOFF, LOCAL_BONUS, REGIONAL_BONUS, Match, Profile, _score
from knowledge.schema import ALL, Offer, OfferKind, OfferStatus
from knowledge.vocabulary import District, Goal, Sector, Situation

MAX_CACHED_WORDS = 4096


def _bits(mask: int) -> Iterator[int]:
    """Positions of the set bits, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class OfferIndex:
    def __init__(self, offers: Sequence[Offer]) -> None:
        self.offers = sorted((o for o in offers if o.status is OfferStatus.CURRENT), key=lambda o: o.id)
        self.all = (1 << len(self.offers)) - 1
        self.situation = {s: 0 for s in Situation}
        self.serves = {d: 0 for d in District}
        self.goal = {g: 0 for g in Goal}
        self.sector_in = {s: 0 for s in Sector}
        self.keyword: dict[str, int] = {}
        self.beratung = self.local = self.regional = self.sector_specific = 0
        for i, offer in enumerate(self.offers):
            bit = 1 << i
            for s in offer.situations:
                self.situation[s] |= bit
            for d in District:
                if offer.serves_district(d):
                    self.serves[d] |= bit
            for g in offer.goals:
                self.goal[g] |= bit
            if offer.kind is OfferKind.BERATUNG:
                self.beratung |= bit
            if offer.districts != ALL:
                if len(offer.districts) <= 2:
                    self.local |= bit
                else:
                    self.regional |= bit
            if offer.sectors != ALL:
                self.sector_specific |= bit
                for sec in offer.sectors:
                    self.sector_in[sec] |= bit
            for kw in offer.keywords:
                self.keyword[kw.lower()] = self.keyword.get(kw.lower(), 0) | bit
        self.vocabulary = tuple(self.keyword)
        self._word_bits: dict[str, int] = {}

    def top(self, profile: Profile, n: int) -> tuple[list[Match], int]:
        """The first `n` matches in `rank` order, and how many there are in all."""
        p = profile
        goal_fit = self.all if p.goal is None else self.goal[p.goal]
        candidates = self.situation[p.situation] & self.serves[p.district] & (goal_fit | self.beratung)
        total = candidates.bit_count()
        if n <= 0 or not candidates:
            return [], total
        hit = candidates & self._keyword_bits(p.keywords)
        matches = [m for i in _bits(hit) if (m := _score(self.offers[i], p)) is not None]
        rest = candidates & ~hit
        taken: list[int] = []
        for _, tier in sorted(self._tiers(p, goal_fit, rest).items(), reverse=True):
            for i in _bits(tier):
                taken.append(i)
                if len(taken) == n:
                    break
            if len(taken) == n:
                break
        matches += [m for i in taken if (m := _score(self.offers[i], p)) is not None]
        matches.sort(key=lambda m: (-m.score, m.offer.id))
        return matches[:n], total

    def _tiers(self, p: Profile, goal_fit: int, rest: int) -> dict[float, int]:
        """Offers without a keyword hit, grouped by their (then exact) score."""
        if p.goal is not None:
            goal_parts = [(4.0, goal_fit), (-1.0, self.all & ~goal_fit)]  # the latter: counselling
        else:
            goal_parts = [(0.0, self.all & ~self.beratung), (-1.0, self.beratung)]
        if p.district is District.AUSSERHALB:
            district_parts = [(0.0, self.all)]
        else:
            district_parts = [
                (LOCAL_BONUS, self.local),
                (REGIONAL_BONUS, self.regional),
                (0.0, self.all & ~(self.local | self.regional)),
            ]
        if p.sector in (None, Sector.UNBEKANNT):
            sector_parts = [(0.0, self.all)]
        else:
            assert p.sector is not None
            fits = self.sector_in[p.sector]
            sector_parts = [
                (2.5, fits),
                (-3.0, self.sector_specific & ~fits),
                (0.0, self.all & ~self.sector_specific),
            ]
        tiers: dict[float, int] = {}
        for g_score, g_bits in goal_parts:
            g_bits &= rest
            if not g_bits:
                continue
            for d_score, d_bits in district_parts:
                gd = g_bits & d_bits
                if not gd:
                    continue
                for s_score, s_bits in sector_parts:
                    if bits := gd & s_bits:
                        score = g_score + d_score + s_score
                        tiers[score] = tiers.get(score, 0) | bits
        return tiers

    def _keyword_bits(self, keywords: tuple[str, ...]) -> int:
        """Offers one of the words may hit (as `matching.keyword_fits` decides)."""
        mask = 0
        for word in keywords:
            if len(word) < 4:
                continue
            bits = self._word_bits.get(word)
            if bits is None:
                fitting = {kw for kw in self.vocabulary if len(kw) >= 5 and kw in word}
                close = process.extract(
                    word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=KEYWORD_CUTOFF, limit=None
                )
                fitting.update(kw for kw, _, _ in close)
                bits = 0
                for kw in fitting:
                    bits |= self.keyword[kw]
                if len(self._word_bits) >= MAX_CACHED_WORDS:
                    self._word_bits.clear()
                self._word_bits[word] = bits
            mask |= bits
        return mask
