"""The loaded, immutable knowledge the dialog works with: offers, institutions, gazetteer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.gazetteer import Gazetteer
from knowledge.loader import OfferBase, load_offer_base
from knowledge.matching import search_terms
from knowledge.ranking import OfferIndex
from knowledge.schema import Institution, Offer


@dataclass(frozen=True)
class KnowledgeBase:
    offers: tuple[Offer, ...]
    institutions: dict[str, Institution]
    gazetteer: Gazetteer
    offers_by_id: dict[str, Offer] = field(init=False)
    keyword_vocabulary: tuple[str, ...] = field(init=False)  # every offer keyword, lowercase
    ranking: OfferIndex = field(init=False)  # a results page's offers without scoring every offer

    def __post_init__(self) -> None:
        object.__setattr__(self, "offers_by_id", {o.id: o for o in self.offers})
        keywords = sorted({kw.lower() for o in self.offers for kw in o.keywords})
        object.__setattr__(self, "keyword_vocabulary", tuple(keywords))
        object.__setattr__(self, "ranking", OfferIndex(self.offers))

    def search_terms(self, words: Iterable[str]) -> tuple[str, ...]:
        """What a conversation may keep of a message's words: the catalogue keywords they stand for."""
        return search_terms(words, self.keyword_vocabulary)

    @classmethod
    def from_offer_base(cls, base: OfferBase, gazetteer: Gazetteer | None = None) -> KnowledgeBase:
        return cls(
            offers=base.offers,
            institutions={i.id: i for i in base.institutions},
            gazetteer=gazetteer or Gazetteer.bundled(),
        )

    @classmethod
    def bundled(cls) -> KnowledgeBase:
        return cls.from_offer_base(load_offer_base())
