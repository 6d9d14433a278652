"""Turns offers, institutions and match reasons into catalogue texts (no dialog logic here)."""

from __future__ import annotations

from handlers.catalogue import t
from handlers.dates import date_text
from handlers.turn import Link
from knowledge.base import KnowledgeBase
from knowledge.contacts import Contact
from knowledge.matching import Match, Reason
from knowledge.schema import Amount, Institution, Offer, OfferStatus

REASON_SEPARATOR = " · "


def label(lang: str, kind: str, code: object) -> str:
    return t(lang, f"{kind}.{code}")


def reason_text(lang: str, reason: Reason) -> str:
    match reason.key:
        case "reason.situation":
            return t(lang, reason.key, audience=label(lang, "audience", reason.value))
        case "reason.goal":
            return t(lang, reason.key, goal=label(lang, "goal", reason.value))
        case "reason.district" | "reason.region" | "contact.reason.district":
            return t(lang, reason.key, district=label(lang, "district", reason.value))
        case "reason.sector":
            return t(lang, reason.key, sector=label(lang, "sector", reason.value))
        case _:
            return t(lang, reason.key, word=reason.value)


def summary(lang: str, offer: Offer) -> str:
    return offer.summary_en if lang == "en" and offer.summary_en else offer.summary


def provider_name(kb: KnowledgeBase, offer: Offer) -> str:
    inst = kb.institutions.get(offer.provider)
    return inst.name if inst else offer.provider


def offer_entry(lang: str, kb: KnowledgeBase, match: Match, index: int) -> str:
    """One short, numbered entry of a results page: what, why it fits, who to ask (the summary and
    everything else are one tap away in the details)."""
    offer = match.offer
    return t(
        lang,
        "offer.card",
        index=index,
        title=offer.title,
        reasons=REASON_SEPARATOR.join(reason_text(lang, r) for r in match.reasons),
        provider=provider_name(kb, offer),
    )


def amount_lines(lang: str, amount: Amount) -> list[str]:
    lines = [t(lang, "offer.amount", text=amount.text, stand=amount.stand)]
    if amount.needs_confirmation:
        if amount.source_year is not None:
            lines.append(t(lang, "offer.amount.confirm_year", year=amount.source_year))
        else:
            lines.append(t(lang, "offer.amount.confirm_undated"))
    if amount.note:
        lines.append(t(lang, "offer.amount.note", note=amount.note))
    return lines


def source_lines(lang: str, offer: Offer) -> list[str]:
    """Where the facts come from and what was (not) checked: never a check date nobody made."""
    url = str(offer.source_url)
    if not offer.source_url_seen:
        first = t(lang, "offer.source_unseen", url=url, stand=offer.source_stand)
    elif offer.source_stand:
        first = t(lang, "offer.source_stand", url=url, stand=offer.source_stand)
    else:
        first = t(lang, "offer.source", url=url)
    lines = [first, t(lang, "offer.compiled", date=date_text(lang, offer.compiled_on))]
    if offer.verified_on is not None:
        lines.append(t(lang, "offer.verified", date=date_text(lang, offer.verified_on)))
    return lines


def offer_details(lang: str, kb: KnowledgeBase, offer: Offer) -> str:
    parts = [t(lang, "offer.details", title=offer.title, summary=summary(lang, offer))]
    if offer.status is OfferStatus.CLOSED:
        parts.append(t(lang, "offer.closed", note=offer.status_note))
    if offer.legal_basis:
        parts.append(t(lang, "offer.legal_basis", legal_basis=offer.legal_basis))
    if offer.amounts:
        lines = [t(lang, "offer.amounts_header")]
        for amount in offer.amounts:
            lines += amount_lines(lang, amount)
        lines.append(t(lang, "offer.amounts_note"))
        parts.append("\n".join(lines))
    parts.append(t(lang, "offer.next_step", next_step=offer.next_step))
    parts.append(t(lang, "contact.header", name=provider_name(kb, offer)))
    parts.append("\n".join(source_lines(lang, offer)))
    return "\n\n".join(parts)


def nearby_contact(lang: str, contact: Contact) -> tuple[str, tuple[Link, ...]]:
    """A contact of "Beratung in meiner Nähe": its "Warum:" line says why it is listed (and so
    why it stands where it does), then how to reach it."""
    why = REASON_SEPARATOR.join(reason_text(lang, r) for r in contact.reasons)
    return institution_contact(lang, contact.institution, why=why)


def institution_contact(lang: str, inst: Institution, why: str = "") -> tuple[str, tuple[Link, ...]]:
    lines = [t(lang, "contact.header", name=inst.name)]
    if why:
        lines.append(t(lang, "contact.why", reasons=why))
    if inst.address:
        lines.append(t(lang, "contact.address", address=inst.address))
    if inst.phone:
        lines.append(t(lang, "contact.phone", phone=inst.phone))
    if inst.email:
        lines.append(t(lang, "contact.email", email=inst.email))
    links: tuple[Link, ...] = ()
    if inst.url:
        lines.append(t(lang, "contact.web" if inst.url_seen else "contact.web_unseen", url=str(inst.url)))
        links = (Link(inst.name[:60], str(inst.url)),)
    elif not (inst.phone or inst.email or inst.address):
        lines.append(t(lang, "contact.none"))
    return "\n".join(lines), links
