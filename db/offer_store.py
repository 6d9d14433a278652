"""Writes the validated offer base to the database and reads it back for the dialog."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlmodel import Session, select

from db.models import InstitutionRecord, OfferRecord
from db.types import utcnow
from knowledge.loader import OfferBase
from knowledge.schema import Institution, Offer


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _hash(data: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def upsert_offer_base(session: Session, base: OfferBase) -> ImportReport:
    """Upsert by id and drop entries no longer in the files; the caller's transaction makes it
    all-or-nothing, and loading equal content twice changes nothing."""
    added = updated = unchanged = removed = 0
    rows: list[tuple[type[InstitutionRecord] | type[OfferRecord], str, str, dict[str, object]]] = [
        (InstitutionRecord, i.id, i.name, i.model_dump(mode="json")) for i in base.institutions
    ] + [(OfferRecord, o.id, o.title, o.model_dump(mode="json")) for o in base.offers]
    for model, ident, name, data in rows:
        digest = _hash(data)
        row = (
            session.get(OfferRecord, ident) if model is OfferRecord else session.get(InstitutionRecord, ident)
        )
        if row is None:
            if model is OfferRecord:
                session.add(OfferRecord(id=ident, title=name, data=data, content_hash=digest))
            else:
                session.add(InstitutionRecord(id=ident, name=name, data=data, content_hash=digest))
            added += 1
        elif row.content_hash != digest:
            row.data, row.content_hash, row.updated_at = data, digest, utcnow()
            if isinstance(row, OfferRecord):
                row.title = name
            else:
                row.name = name
            session.add(row)
            updated += 1
        else:
            unchanged += 1
    offer_ids = {o.id for o in base.offers}
    for offer in session.exec(select(OfferRecord)).all():  # offers first: they name institutions
        if offer.id not in offer_ids:
            session.delete(offer)
            removed += 1
    institution_ids = {i.id for i in base.institutions}
    for institution in session.exec(select(InstitutionRecord)).all():
        if institution.id not in institution_ids:
            session.delete(institution)
            removed += 1
    session.flush()
    return ImportReport(added, updated, unchanged, removed)


def offer_count(session: Session) -> int:
    return len(session.exec(select(OfferRecord.id)).all())


def read_offer_base(session: Session) -> OfferBase:
    offers = tuple(
        Offer.model_validate(r.data) for r in session.exec(select(OfferRecord).order_by(OfferRecord.id)).all()
    )
    institutions = tuple(
        Institution.model_validate(r.data)
        for r in session.exec(select(InstitutionRecord).order_by(InstitutionRecord.id)).all()
    )
    return OfferBase(offers=offers, institutions=institutions, sources=())
