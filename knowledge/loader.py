"""Reads and validates the offer base from YAML files.

Everything is validated (and cross-checked) before anything is returned, so a caller that writes
the result in one transaction can never import half a file. Errors name file, entry and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.schema import Institution, InstitutionsFile, Offer, OffersFile, Source, SourcesFile

M = TypeVar("M", bound=BaseModel)

OFFERS_FILE = "offers.yaml"
INSTITUTIONS_FILE = "institutions.yaml"
SOURCES_FILE = "sources.yaml"


class KnowledgeError(Exception):
    """A data file is malformed; `str()` is one line naming file, entry and field."""

    def __init__(self, file: str, entry: str | None, field: str | None, message: str) -> None:
        self.file, self.entry, self.field, self.message = file, entry, field, message
        where = file
        if entry:
            where += f", Eintrag '{entry}'"
        if field:
            where += f", Feld '{field}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class OfferBase:
    offers: tuple[Offer, ...]
    institutions: tuple[Institution, ...]
    sources: tuple[Source, ...]


def bundled_data_dir() -> Path:
    return Path(str(resources.files("knowledge") / "data"))


def load_offer_base(directory: Path | None = None) -> OfferBase:
    """Load offers.yaml, institutions.yaml and sources.yaml from `directory` (default: bundled)."""
    directory = directory or bundled_data_dir()
    if not directory.is_dir():
        raise KnowledgeError(str(directory), None, None, "Verzeichnis nicht gefunden")
    sources = _parse(directory / SOURCES_FILE, SourcesFile, "sources").sources
    institutions = _parse(directory / INSTITUTIONS_FILE, InstitutionsFile, "institutions").institutions
    offers = _parse(directory / OFFERS_FILE, OffersFile, "offers").offers
    _check_references(directory, offers, institutions, sources)
    return OfferBase(tuple(offers), tuple(institutions), tuple(sources))


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(str(path), None, None, "Datei nicht gefunden") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(str(path), None, None, f"nicht lesbar ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (Zeile {mark.line + 1})" if mark else ""
        raise KnowledgeError(str(path), None, None, f"kein gültiges YAML{where}") from None


def _parse(path: Path, model: type[M], list_key: str) -> M:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise KnowledgeError(str(path), None, None, f"erwartet eine Zuordnung mit dem Schlüssel '{list_key}'")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        entry: str | None = None
        if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            items = raw.get(list_key) or []
            item = items[loc[1]] if loc[1] < len(items) else None
            ident = item.get("id") or item.get("ags") if isinstance(item, dict) else None
            entry = str(ident) if ident else f"Nr. {loc[1] + 1}"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc) or None
        more = f" (und {exc.error_count() - 1} weitere Fehler)" if exc.error_count() > 1 else ""
        raise KnowledgeError(str(path), entry, field, f"{err['msg']}{more}") from None


def _check_references(
    directory: Path, offers: list[Offer], institutions: list[Institution], sources: list[Source]
) -> None:
    source_ids = _unique(directory / SOURCES_FILE, [s.id for s in sources])
    institution_ids = _unique(directory / INSTITUTIONS_FILE, [i.id for i in institutions])
    _unique(directory / OFFERS_FILE, [o.id for o in offers])
    for inst in institutions:
        for sid in inst.sources:
            if sid not in source_ids:
                raise KnowledgeError(
                    str(directory / INSTITUTIONS_FILE), inst.id, "sources", f"unbekannte Quelle '{sid}'"
                )
    for offer in offers:
        if offer.verified_on is not None or offer.verified_by is not None:
            raise KnowledgeError(
                str(directory / OFFERS_FILE),
                offer.id,
                "verified_on",
                "wird nur durch eine Person gesetzt (`bildungslotse knowledge verify`), nicht in der Datei",
            )
        if offer.provider not in institution_ids:
            raise KnowledgeError(
                str(directory / OFFERS_FILE),
                offer.id,
                "provider",
                f"unbekannte Einrichtung '{offer.provider}'",
            )
        for sid in offer.sources:
            if sid not in source_ids:
                raise KnowledgeError(
                    str(directory / OFFERS_FILE), offer.id, "sources", f"unbekannte Quelle '{sid}'"
                )


def _unique(path: Path, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise KnowledgeError(str(path), ident, "id", "id kommt doppelt vor")
        seen.add(ident)
    return seen
