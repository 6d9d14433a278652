"""Synthetic offers for the matching benchmark and the index's equivalence test: many, varied, valid.

They are copies of the bundled offers with random situations, districts, sectors, goals and
keywords (from a vocabulary of made-up German-looking words plus the real ones), so every
criterion of the ranking is exercised, ties included. Deterministic for a given seed.
"""

from __future__ import annotations

import random

from knowledge.base import KnowledgeBase
from knowledge.schema import Offer, OfferKind, OfferStatus, Scope
from knowledge.vocabulary import District, Goal, Sector, Situation

_SYLLABLES = (
    "pfle",
    "ge",
    "meis",
    "ter",
    "la",
    "ger",
    "lo",
    "gis",
    "tik",
    "hand",
    "werk",
    "bau",
    "elek",
    "tro",
    "kauf",
    "mann",
    "frau",
    "koch",
    "gar",
    "ten",
    "land",
    "wirt",
    "schaft",
    "it",
    "da",
    "ten",
    "bank",
)
_REGIONAL = (District.LUENEBURG, District.HARBURG, District.UELZEN, District.LUECHOW_DANNENBERG)


def vocabulary(rng: random.Random, size: int, real: tuple[str, ...]) -> list[str]:
    words = set(real)
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def offers(n: int, seed: int = 7) -> tuple[list[Offer], list[str]]:
    """`n` current offers (and a few closed ones) plus the keyword vocabulary they use."""
    rng = random.Random(seed)
    templates = KnowledgeBase.bundled().offers
    words = vocabulary(rng, 1500, tuple(sorted({k.lower() for o in templates for k in o.keywords})))
    out: list[Offer] = []
    for i in range(n):
        template = templates[i % len(templates)]
        districts = "all" if rng.random() < 0.4 else rng.sample(_REGIONAL, rng.randint(1, 4))
        sectors = "all" if rng.random() < 0.5 else rng.sample(list(Sector), rng.randint(1, 3))
        closed = rng.random() < 0.02
        update = {
            "id": f"syn_{i:05d}",
            "situations": rng.sample(list(Situation), rng.randint(1, 3)),
            "districts": districts,
            "sectors": sectors,
            "goals": rng.sample(list(Goal), rng.randint(1, 3)),
            "keywords": rng.sample(words, rng.randint(0, 6)),
            "kind": OfferKind.BERATUNG if rng.random() < 0.1 else template.kind,
            "scope": rng.choice(list(Scope)),
            "status": OfferStatus.CLOSED if closed else OfferStatus.CURRENT,
            "status_note": "Die letzte Runde ist beendet." if closed else template.status_note,
        }
        out.append(template.model_copy(update=update))
    return out, words
