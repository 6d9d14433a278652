"""Writes the validated offer base to the database and reads it back for the dialog.

The database is the truth once partners edit texts in the console: `edit_offer` and
`edit_institution` mark the row (edited_at/by), and `upsert_offer_base` (`knowledge load`) then
reports a differing file entry as a conflict and keeps the edit instead of silently overwriting
it; `knowledge export` writes the database back to YAML, so the files can catch up (a file equal
to the database clears the mark). `overwrite=True` lets the files win on purpose.

A person's check of an offer (`verify_offer`) is stored in its own columns, apart from the data
that `knowledge load` rewrites, so reloading the YAML never wipes who checked what and when.

Every write here that changes what the bot shows also raises the offer base's revision in the same
transaction (`_bump_revision`): running bot processes poll that one number and reload when it moves
(bot/offer_refresh.py), so no write path can forget to tell them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from db import audit
from db.engine import rowcount
from db.models import InstitutionRecord, OfferBaseRevision, OfferRecord
from db.types import utcnow
from knowledge.loader import OfferBase
from knowledge.schema import Institution, Offer


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    removed: int
    conflicts: tuple[str, ...] = ()  # ids edited in the console that the files would have changed

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


PERSON_CHECK = {"verified_on", "verified_by"}


def _hash(data: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def upsert_offer_base(
    session: Session, base: OfferBase, overwrite: bool = False, now: dt.datetime | None = None
) -> ImportReport:
    """Upsert by id and drop entries no longer in the files; the caller's transaction makes it
    all-or-nothing, and loading equal content twice changes nothing (not even the revision). Rows
    edited in the console are kept and reported as conflicts when the files differ (unless `overwrite`)."""
    now = now or utcnow()
    added = updated = unchanged = removed = 0
    conflicts: list[str] = []
    rows: list[tuple[type[InstitutionRecord] | type[OfferRecord], str, str, dict[str, object]]] = [
        (InstitutionRecord, i.id, i.name, i.model_dump(mode="json")) for i in base.institutions
    ] + [(OfferRecord, o.id, o.title, o.model_dump(mode="json", exclude=PERSON_CHECK)) for o in base.offers]
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
        elif row.content_hash != digest and row.edited_at is not None and not overwrite:
            conflicts.append(ident)
        elif row.content_hash != digest:
            row.data, row.content_hash, row.updated_at = data, digest, now
            row.edited_at = row.edited_by = None
            if isinstance(row, OfferRecord):
                row.title = name
            else:
                row.name = name
            session.add(row)
            updated += 1
        else:
            if row.edited_at is not None:  # the files caught up with the console's edit
                row.edited_at = row.edited_by = None
                session.add(row)
            unchanged += 1
    offer_ids = {o.id for o in base.offers}
    for offer in session.exec(select(OfferRecord)).all():  # offers first: they name institutions
        if offer.id not in offer_ids and offer.edited_at is not None and not overwrite:
            conflicts.append(offer.id)
        elif offer.id not in offer_ids:
            session.delete(offer)
            removed += 1
    institution_ids = {i.id for i in base.institutions}
    session.flush()
    kept_providers = {str(o.data.get("provider")) for o in session.exec(select(OfferRecord)).all()}
    for institution in session.exec(select(InstitutionRecord)).all():
        if institution.id not in institution_ids and (
            institution.edited_at is not None or institution.id in kept_providers
        ):
            if institution.id not in conflicts:
                conflicts.append(institution.id)
        elif institution.id not in institution_ids:
            session.delete(institution)
            removed += 1
    report = ImportReport(added, updated, unchanged, removed, tuple(conflicts))
    if report.changed:
        _bump_revision(session, now)
    session.flush()
    return report


def offer_count(session: Session) -> int:
    return len(session.exec(select(OfferRecord.id)).all())


def revision(session: Session) -> int:
    """The offer base's revision: one indexed row, cheap enough to ask every few seconds."""
    return session.exec(select(OfferBaseRevision.revision).where(OfferBaseRevision.id == 1)).first() or 0


def read_revision_and_base(session: Session) -> tuple[int, OfferBase]:
    """The revision first, then the offers: the base read is never older than the revision returned
    (at worst newer, and the next poll merely reloads the same content once more)."""
    current = revision(session)
    return current, read_offer_base(session)


def _bump_revision(session: Session, now: dt.datetime) -> None:
    """Raises the revision inside the caller's transaction, so processes see it together with the data.

    On PostgreSQL the UPDATE also row-locks the counter, so concurrent writers of the offer base
    commit one after another and no increment is lost."""
    table = OfferBaseRevision.__table__  # type: ignore[attr-defined]
    bumped = rowcount(
        session.execute(
            sa.update(table).where(table.c.id == 1).values(revision=table.c.revision + 1, changed_at=now)
        )
    )
    if not bumped:  # the row was deleted: start again from a number no process can have loaded
        session.add(OfferBaseRevision(id=1, revision=int(now.timestamp() * 1000), changed_at=now))


def read_offer_base(session: Session) -> OfferBase:
    offers = tuple(
        Offer.model_validate({**r.data, "verified_on": r.verified_on, "verified_by": r.verified_by})
        for r in session.exec(select(OfferRecord).order_by(OfferRecord.id)).all()
    )
    institutions = tuple(
        Institution.model_validate(r.data)
        for r in session.exec(select(InstitutionRecord).order_by(InstitutionRecord.id)).all()
    )
    return OfferBase(offers=offers, institutions=institutions, sources=())


def verify_offer(
    session: Session, offer_id: str, by: str, now: dt.datetime, tz: dt.tzinfo, actor: str | None = None
) -> bool:
    """Records a person's check of one offer (in the offer and in the audit log); False if unknown.

    `now` comes from the caller (the CLI's clock); the check date is its calendar day in `tz`. `actor` is
    who ran the command (e.g. "cli:<os user>"), `by` the person named as having checked.
    """
    row = session.get(OfferRecord, offer_id)
    if row is None:
        return False
    on = now.astimezone(tz).date()
    row.verified_on, row.verified_by = on, by[:200]
    session.add(row)
    _bump_revision(session, now)
    audit.record(
        session,
        actor or f"cli:{by}",
        "offer_verified",
        at=now,
        offer=offer_id,
        verified_by=by[:200],
        verified_on=on.isoformat(),
    )
    session.flush()
    return True


OFFER_TEXTS = ("summary", "next_step")
CONTACT_FIELDS = ("phone", "email", "address")


def edit_offer(
    session: Session, row: OfferRecord, texts: dict[str, str], now: dt.datetime, actor: str
) -> list[str]:
    """Changes an offer's texts after validating the whole offer; returns the changed fields.

    Raises pydantic's ValidationError if the result would not be a valid offer."""
    data = {**row.data, **{k: v for k, v in texts.items() if k in OFFER_TEXTS}}
    Offer.model_validate(data)
    changed = [k for k in OFFER_TEXTS if row.data.get(k) != data.get(k)]
    if changed:
        _store_edit(session, row, data, now, actor)
        audit.record(session, actor, "offer_edit", at=now, offer=row.id, fields=changed)
        session.flush()
    return changed


def edit_institution(
    session: Session, row: InstitutionRecord, contact: dict[str, str], now: dt.datetime, actor: str
) -> list[str]:
    """Changes an institution's contact details (empty = none); validated like the data files."""
    data = dict(row.data)
    for key in CONTACT_FIELDS:
        if key in contact:
            value = contact[key].strip()
            if value:
                data[key] = value
            else:
                data.pop(key, None)
    Institution.model_validate(data)
    changed = [k for k in CONTACT_FIELDS if row.data.get(k) != data.get(k)]
    if changed:
        _store_edit(session, row, data, now, actor)
        audit.record(session, actor, "institution_edit", at=now, institution=row.id, fields=changed)
        session.flush()
    return changed


def _store_edit(
    session: Session, row: OfferRecord | InstitutionRecord, data: dict[str, Any], now: dt.datetime, actor: str
) -> None:
    """A console edit: new content, and who changed it when (`knowledge load` then reports a conflict)."""
    row.data, row.content_hash, row.updated_at = data, _hash(data), now
    row.edited_at, row.edited_by = now, actor[:200]
    session.add(row)
    _bump_revision(session, now)


def export_offer_base(session: Session) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(offers, institutions) as the data files hold them; persons' checks stay in the database."""
    offers = [dict(r.data) for r in session.exec(select(OfferRecord).order_by(OfferRecord.id)).all()]
    institutions = [
        dict(r.data) for r in session.exec(select(InstitutionRecord).order_by(InstitutionRecord.id)).all()
    ]
    return offers, institutions
