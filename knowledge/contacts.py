"""Which counselling contacts "Beratung in meiner Nähe" names, in which order, and why.

Someone who asks for advice near them wants the bodies in or for their own district first; a
region-wide body comes before them only in a district the person does not live in. Institutions
carry no audience of their own, so whom a contact serves is read from the current offers it
provides: the data, not a guess, says that a vocational school is for pupils.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from knowledge.matching import Reason
from knowledge.schema import ALL, Institution, Offer, OfferStatus
from knowledge.vocabulary import REGION_DISTRICTS, District, Sector, Situation

# a public counselling body is who people should call: it leads within each group
COUNSELLING_KINDS = ("agentur", "jobcenter", "kammer", "behörde", "landkreis", "kommune", "beratung")


class Group(IntEnum):
    """The order of the list. A district contact whose offers are all for other situations (a
    vocational school for an employee) is still named, but after the region-wide ones that fit:
    six lines are few, and the district's schools would otherwise push the Agentur für Arbeit
    or the chamber of the person's trade off the list in Lüneburg and Uelzen."""

    DISTRICT = 0  # serves the user's district and not the whole region (fits, or the data is silent)
    FITTING = 1  # region-wide, with an offer for the user's situation (and sector)
    DISTRICT_OTHER = 2  # serves the user's district, but its offers are for other situations
    REGION = 3  # region-wide, nothing for the user's situation


@dataclass(frozen=True, slots=True)
class Contact:
    institution: Institution
    group: Group
    reasons: tuple[Reason, ...]  # rendered as the contact's "Warum:" line


def nearby_contacts(
    institutions: Iterable[Institution],
    offers: Sequence[Offer],
    district: District | None,
    situation: Situation | None = None,
    sector: Sector | None = None,
    limit: int | None = None,
) -> list[Contact]:
    """The contacts for someone in `district`, best first; outside the region (or with no district
    yet) only the bodies that serve everywhere, since the region's own ones are not responsible."""
    outside = district is None or district is District.AUSSERHALB
    fits = _fitting_providers(offers, district, situation, sector)
    has_offers = {o.provider for o in offers if o.status is OfferStatus.CURRENT}
    contacts: list[Contact] = []
    for inst in institutions:
        if outside:
            if inst.districts != ALL:
                continue
        elif inst.districts != ALL and district not in inst.districts:
            continue
        local = not outside and not _region_wide(inst)
        fit = fits.get(inst.id)
        reasons: list[Reason] = []
        if local:
            assert district is not None
            reasons.append(Reason("contact.reason.district", district.value))
        if fit is not None:
            reasons.append(Reason("reason.situation", fit[0].value))
            if fit[1] is not None:
                reasons.append(Reason("reason.sector", fit[1].value))
        if not local:
            reasons.append(
                Reason("contact.reason.beyond" if inst.districts == ALL else "contact.reason.region")
            )
        if local:
            silent = situation is None or inst.id not in has_offers
            group = Group.DISTRICT if fit is not None or silent else Group.DISTRICT_OTHER
        else:
            group = Group.FITTING if fit is not None else Group.REGION
        contacts.append(Contact(inst, group, tuple(reasons)))
    contacts.sort(key=_order)
    return contacts if limit is None else contacts[:limit]


def _order(contact: Contact) -> tuple[int, int, int, str]:
    """Group, then counselling bodies first (they are who people should call), then those whose
    offers name the user's sector, then by name so the list is stable."""
    sector_named = any(r.key == "reason.sector" for r in contact.reasons)
    return (
        contact.group,
        0 if is_counselling(contact.institution) else 1,
        0 if sector_named else 1,
        contact.institution.name,
    )


def is_counselling(inst: Institution) -> bool:
    kind = inst.kind.lower()
    return any(k in kind for k in COUNSELLING_KINDS)


def _region_wide(inst: Institution) -> bool:
    return inst.districts == ALL or all(d in inst.districts for d in REGION_DISTRICTS)


def _fitting_providers(
    offers: Iterable[Offer], district: District | None, situation: Situation | None, sector: Sector | None
) -> dict[str, tuple[Situation, Sector | None]]:
    """Providers with a current offer for this situation in this district; the sector counts where
    an offer names sectors (one made for other trades does not make its provider fit), and is given
    as a reason only when such an offer names the user's sector."""
    if situation is None:
        return {}
    known_sector = sector if sector not in (None, Sector.UNBEKANNT) else None
    found: dict[str, tuple[Situation, Sector | None]] = {}
    for offer in offers:
        if offer.status is not OfferStatus.CURRENT or situation not in offer.situations:
            continue
        if district is not None and not offer.serves_district(district):
            continue
        named = None
        if known_sector is not None and offer.sectors != ALL:
            if known_sector not in offer.sectors:
                continue
            named = known_sector
        if found.get(offer.provider, (situation, None))[1] is None:
            found[offer.provider] = (situation, named)
    return found
