"""The loaded, immutable knowledge the dialog works with: offers, institutions, gazetteer."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.gazetteer import Gazetteer
from knowledge.loader import OfferBase, load_offer_base
from knowledge.schema import Institution, Offer


@dataclass(frozen=True)
class KnowledgeBase:
    offers: tuple[Offer, ...]
    institutions: dict[str, Institution]
    gazetteer: Gazetteer
    offers_by_id: dict[str, Offer] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "offers_by_id", {o.id: o for o in self.offers})

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
