"""Validation of the offer base files: clear errors naming file, entry and field; all or nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from db.engine import make_engine, session_scope
from db.models import OfferRecord
from db.offer_store import read_offer_base, upsert_offer_base
from knowledge.loader import KnowledgeError, bundled_data_dir, load_offer_base


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in ("offers.yaml", "institutions.yaml", "sources.yaml"):
        shutil.copy(bundled_data_dir() / name, target / name)
    return target


# changes the list of offers in place (the lambdas' return values are ignored)
OffersEdit = Callable[[list[dict[str, Any]]], object]


def _edit_offers(data_dir: Path, change: OffersEdit) -> None:
    path = data_dir / "offers.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw["offers"])
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_bundled_base_is_valid() -> None:
    base = load_offer_base()
    assert len(base.offers) >= 40 and len(base.institutions) >= 12


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda offers: offers[3].update(situations=["kaiser"]), "situations.0", "Input should be"),
        (lambda offers: offers[3].pop("source_url"), "source_url", "Field required"),
        (lambda offers: offers[3].update(compiled_on="gestern"), "compiled_on", "date"),
        (
            lambda offers: offers[3].update(verified_on="2026-11-30", verified_by="Datei"),
            "verified_on",
            "knowledge verify",
        ),
        (lambda offers: offers[3].update(provider="erfunden"), "provider", "unbekannte Einrichtung"),
        (lambda offers: offers[3].update(sources=["keine_quelle"]), "sources", "unbekannte Quelle"),
        (lambda offers: offers[3].update(unexpected="x"), "unexpected", "Extra inputs"),
    ],
)
def test_malformed_entry_names_file_entry_and_field(
    data_dir: Path, change: OffersEdit, field: str, words: str
) -> None:
    entry_id = yaml.safe_load((data_dir / "offers.yaml").read_text(encoding="utf-8"))["offers"][3]["id"]
    _edit_offers(data_dir, change)
    with pytest.raises(KnowledgeError) as err:
        load_offer_base(data_dir)
    message = str(err.value)
    assert "offers.yaml" in message and f"Eintrag '{entry_id}'" in message and f"Feld '{field}'" in message
    assert words in message


def test_duplicate_id_is_rejected(data_dir: Path) -> None:
    _edit_offers(data_dir, lambda offers: offers.append(dict(offers[0])))
    with pytest.raises(KnowledgeError, match="doppelt"):
        load_offer_base(data_dir)


def test_broken_yaml_and_missing_files_are_reported(data_dir: Path) -> None:
    (data_dir / "institutions.yaml").write_text("institutions: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"institutions\.yaml: kein gültiges YAML"):
        load_offer_base(data_dir)
    (data_dir / "sources.yaml").unlink()
    with pytest.raises(KnowledgeError, match="Datei nicht gefunden"):
        load_offer_base(data_dir)


def test_loading_twice_changes_nothing_and_round_trips(database_url: str) -> None:
    engine = make_engine(database_url)
    base = load_offer_base()
    with session_scope(engine) as s:
        first = upsert_offer_base(s, base)
    with session_scope(engine) as s:
        second = upsert_offer_base(s, base)
    assert first.added == len(base.offers) + len(base.institutions)
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    with Session(engine) as s:
        assert sorted(read_offer_base(s).offers, key=lambda o: o.id) == sorted(
            base.offers, key=lambda o: o.id
        )
    engine.dispose()


def test_changed_and_removed_entries_are_updated_not_duplicated(database_url: str, data_dir: Path) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as s:
        upsert_offer_base(s, load_offer_base(data_dir))
    _edit_offers(data_dir, lambda offers: (offers[0].update(title="Neuer Titel"), offers.pop()))
    with session_scope(engine) as s:
        report = upsert_offer_base(s, load_offer_base(data_dir))
    assert (report.updated, report.removed) == (1, 1)
    with Session(engine) as s:
        titles = [r.title for r in s.exec(select(OfferRecord)).all()]
    assert "Neuer Titel" in titles and len(titles) == len(load_offer_base(data_dir).offers)
    engine.dispose()
