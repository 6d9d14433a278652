"""Ranks offers for a profile and says why each one fits.

Hard filters (situation, district) decide what may be shown at all; soft scores (goal, sector,
local contact, keywords) decide the order. Ties break on the offer id, so results are stable.
A closed offer (its last round has ended) is never ranked: it is only named, with its status, when
the user's own words ask for it (`closed_asked_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.schema import ALL, Offer, OfferKind, OfferStatus
from knowledge.vocabulary import District, Goal, Sector, Situation

KEYWORD_CUTOFF = 88
LOCAL_BONUS = 1.5
REGIONAL_BONUS = 0.5


@dataclass(frozen=True, slots=True)
class Profile:
    situation: Situation
    district: District
    sector: Sector | None = None
    goal: Goal | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reason:
    """A catalogue key plus the code it refers to, rendered by the dialog in the user's language."""

    key: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    offer: Offer
    score: float
    reasons: tuple[Reason, ...]


def rank(offers: tuple[Offer, ...] | list[Offer], profile: Profile) -> list[Match]:
    matches = [m for o in offers if o.status is OfferStatus.CURRENT and (m := _score(o, profile)) is not None]
    matches.sort(key=lambda m: (-m.score, m.offer.id))
    return matches


def closed_asked_for(offers: tuple[Offer, ...] | list[Offer], profile: Profile) -> list[Offer]:
    """Closed offers for this situation and district that the user's keywords name."""
    return [
        o
        for o in offers
        if o.status is OfferStatus.CLOSED
        and profile.situation in o.situations
        and o.serves_district(profile.district)
        and _keyword_hits(o, profile.keywords)
    ]


def _score(offer: Offer, p: Profile) -> Match | None:
    if p.situation not in offer.situations or not offer.serves_district(p.district):
        return None
    goal_fits = p.goal is None or p.goal in offer.goals
    if not goal_fits and offer.kind is not OfferKind.BERATUNG:
        return None
    reasons = [Reason("reason.situation", p.situation.value)]
    score = 0.0
    if p.goal is not None and goal_fits:
        score += 4
        reasons.append(Reason("reason.goal", p.goal.value))
    if p.district is not District.AUSSERHALB and offer.districts != ALL:
        score += LOCAL_BONUS if len(offer.districts) <= 2 else REGIONAL_BONUS  # a contact close by helps most
        reasons.append(Reason("reason.district", p.district.value))
    elif p.district is not District.AUSSERHALB:
        reasons.append(Reason("reason.region", p.district.value))
    if p.sector not in (None, Sector.UNBEKANNT):
        if offer.sectors != ALL and p.sector in offer.sectors:
            score += 2.5
            reasons.append(Reason("reason.sector", p.sector.value))
        elif offer.sectors != ALL:
            score -= 3  # made for other sectors: keep it, but far down
    hits = _keyword_hits(offer, p.keywords)
    score += min(len(hits), 2) * 1.0
    # one keyword is enough to explain; the goal's own word ("umschulung") already has its reason
    shown = [k for k in hits if p.goal is None or k != p.goal.value][:1]
    reasons.extend(Reason("reason.keyword", k) for k in shown)
    if offer.kind is OfferKind.BERATUNG and not (p.goal is not None and goal_fits):
        score -= 1  # counselling as a fallback after the offers that fit the goal
    return Match(offer, score, tuple(reasons))


def _keyword_hits(offer: Offer, keywords: tuple[str, ...]) -> list[str]:
    if not keywords or not offer.keywords:
        return []
    hits: list[str] = []
    for word in keywords:
        if len(word) < 4:
            continue
        for kw in offer.keywords:
            if keyword_fits(word, kw.lower()):
                hits.append(kw.lower())
                break
    return list(dict.fromkeys(hits))


def keyword_fits(word: str, keyword: str) -> bool:
    """A searched word fits an offer keyword: nearly the same, or containing it ("Pflegeausbildung")."""
    return fuzz.ratio(word, keyword) >= KEYWORD_CUTOFF or (len(keyword) >= 5 and keyword in word)


def search_terms(words: Iterable[str], vocabulary: Sequence[str]) -> tuple[str, ...]:
    """The catalogue keywords that stand for the words of a message, one per word that fits any.

    Only these are kept with a conversation: they are the bot's own vocabulary, so a name, a
    diagnosis or a phone number in a message is never stored, while ranking by keyword (and the
    reason "passt zu „…“", which shows the offer's keyword anyway) works as with the words.
    """
    terms: dict[str, None] = {}
    for word in words:
        if len(word) < 4:
            continue
        if word in vocabulary:
            terms[word] = None
            continue
        contained = [kw for kw in vocabulary if len(kw) >= 5 and kw in word]
        close = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=KEYWORD_CUTOFF)
        if close is not None:
            terms[close[0]] = None
        elif contained:
            terms[max(contained, key=len)] = None
    return tuple(terms)
