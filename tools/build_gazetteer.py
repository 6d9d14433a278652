"""Dev-only generator for the bundled gazetteer (never imported at run time).

The project must not read the shared fact base while running, so this script copies what the
gazetteer needs from ``../shared/facts`` into ``knowledge/data`` once:

* ``gazetteer.yaml`` – one validated Municipality per Gemeinde (AGS, district, postcodes,
  aliases, example localities, GeoNames locality point),
* ``districts.geojson`` – byte-for-byte copy of the district polygons (region + neighbours),
* ``GEO_ATTRIBUTION.md`` – the licence notes the geodata requires.

Re-run it only when the fact base changes and commit the regenerated files:

    .venv/bin/python tools/build_gazetteer.py [--facts ../shared/facts]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from any working directory

from knowledge.schema import GazetteerFile, Municipality  # noqa: E402
from knowledge.vocabulary import DISTRICT_BY_AGS  # noqa: E402

DEFAULT_FACTS = ROOT.parent / "shared" / "facts"
OUT_DIR = ROOT / "knowledge" / "data"

ATTRIBUTION = (
    "Gemeinden, AGS, Postleitzahlen, Samtgemeinden und Ortsteil-Beispiele: Faktenbasis des Projekts "
    "(region_facts.yaml, Abschnitt gazetteer; OSM-basierte PLZ-AGS-Tabelle Stand 2023, amtliches "
    "Anschriftenverzeichnis der Samtgemeinden Stand 31.01.2026; Namenszusätze und Ortsteile aus "
    "Allgemeinwissen, ungeprüft). "
    "Kreisgrenzen (districts.geojson): © GeoBasis-DE / BKG 2019 (Daten verändert) – VG250 Kreise, "
    "Stand 31.12.2018, vereinfacht (opendatalab-de/simple-geodata-selector); Datenlizenz Deutschland – "
    "Namensnennung – 2.0 (dl-de/by-2-0). "
    "Gemeindeschwerpunkte zur Prüfung der Ortspunkte: © GeoBasis-DE / BKG 2021 (Daten verändert) – VG5000, "
    "dl-de/by-2-0. "
    "Ortspunkte (lat/lon): Daten: GeoNames (geonames.org), CC BY 4.0, über "
    "zauberware/postal-codes-json-xml-csv; ausgewählt und zugeordnet."
)

ATTRIBUTION_MD = """\
# Quellen und Lizenzen der Geodaten

Erzeugt von `tools/build_gazetteer.py` aus der Faktenbasis des Projekts (`shared/facts`).

* **Kreisgrenzen** (`districts.geojson`, 4 Landkreise der Region und 11 Nachbarkreise): BKG VG250 Kreise,
  Stand 31.12.2018, mit 200 m Toleranz vereinfacht (`opendatalab-de/simple-geodata-selector`,
  `src/data/landkreise_sim200.geojson`); Kreise ausgewählt, Koordinaten gerundet, Eigenschaften ersetzt.
  Quellenvermerk: **© GeoBasis-DE / BKG 2019 (Daten verändert)**,
  Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0).
* **Prüfung der Ortspunkte** gegen die Gemeindeflächen: BKG VG5000 Gemeinden, Stand 01.01.2021.
  Quellenvermerk: **© GeoBasis-DE / BKG 2021 (Daten verändert)**, dl-de/by-2-0.
* **Ortspunkte** (`gazetteer.yaml`, Felder `lat`/`lon`): GeoNames-Postleitzahldaten über
  `zauberware/postal-codes-json-xml-csv`. Namensnennung: **Daten: GeoNames (geonames.org), CC BY 4.0**;
  ausgewählt und zugeordnet.
* **AGS, Namen, PLZ, Aliase, Ortsteile** (`gazetteer.yaml`): Faktenbasis des Projekts (`region_facts.yaml`,
  Abschnitt `gazetteer`): OSM-basierte PLZ-AGS-Tabelle (Stand 2023), amtliches Anschriftenverzeichnis der
  Samtgemeinden (Stand 31.01.2026); Ortsteile und Namenszusätze aus Allgemeinwissen, ungeprüft.

Vorbehalte: Die Kreisgrenzen sind vereinfacht; Standorte wenige hundert Meter von einer Kreisgrenze
entfernt (besonders an der Elbe) können falsch zugeordnet werden. Im Zweifel im Dialog nachfragen.
"""

# Short forms people actually type, beyond the fact base aliases (keyed by AGS). Spelling variants
# with slashes, hyphens or umlaut transcriptions are not needed: the matcher normalises those.
EXTRA_ALIASES: dict[str, list[str]] = {
    "03360002": ["Bevensen"],  # Bad Bevensen
    "03360005": ["Bodenteich"],  # Bad Bodenteich
}

_BRACKET = re.compile(r"\s*\([^)]*\)\s*$")


def _base_name(name: str) -> str:
    """'Winsen (Luhe)' -> 'Winsen': people rarely type the official bracket suffix."""
    return _BRACKET.sub("", name).strip()


def _iter_members(facts: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any] | None]]:
    """All Gemeinden as (entry, district AGS, Samtgemeinde or None)."""
    rows: list[tuple[dict[str, Any], str, dict[str, Any] | None]] = []
    for lk in facts["gazetteer"]["landkreise"]:
        for m in lk.get("einheitsgemeinden", []):
            rows.append((m, lk["ags"], None))
        for sg in lk.get("samtgemeinden", []):
            for m in sg["mitgliedsgemeinden"]:
                rows.append((m, lk["ags"], sg))
    return rows


def _add(aliases: list[str], name: str, candidate: str) -> None:
    candidate = candidate.strip()
    if candidate and candidate != name and candidate not in aliases:
        aliases.append(candidate)


def build(facts_dir: Path) -> GazetteerFile:
    facts = yaml.safe_load((facts_dir / "region_facts.yaml").read_text(encoding="utf-8"))
    with (facts_dir / "geo" / "municipalities.csv").open(encoding="utf-8") as f:
        coords = {row["ags"]: row for row in csv.DictReader(f)}

    municipalities: list[Municipality] = []
    for entry, district_ags, samtgemeinde in _iter_members(facts):
        name: str = entry["name"]
        ags: str = entry["ags"]
        aliases: list[str] = []
        for alias in entry.get("aliases", []):
            _add(aliases, name, alias)
        _add(aliases, name, _base_name(name))
        for alias in EXTRA_ALIASES.get(ags, []):
            _add(aliases, name, alias)
        # A Samtgemeinde name only points to one place when its seat is the member of the same
        # name (SG Tostedt -> Tostedt); "SG Gellersen" or "SG Ilmenau" would be a guess, so skip.
        if samtgemeinde is not None:
            sg_short = samtgemeinde["name"].removeprefix("Samtgemeinde ").strip()
            if sg_short == name and samtgemeinde.get("verwaltungssitz") == name:
                _add(aliases, name, samtgemeinde["name"])
                _add(aliases, name, f"Samtgemeinde {_base_name(name)}")
                _add(aliases, name, f"SG {_base_name(name)}")
        row = coords[ags]
        if row["name"] != name:
            raise SystemExit(f"name mismatch for {ags}: {row['name']!r} vs {name!r}")
        municipalities.append(
            Municipality(
                ags=ags,
                name=name,
                district=DISTRICT_BY_AGS[district_ags],
                postcodes=list(entry["plz"]),
                aliases=aliases,
                localities=list(entry.get("ortsteile_beispiele", [])),
                lat=float(row["center_lat"]),
                lon=float(row["center_lon"]),
            )
        )
    municipalities.sort(key=lambda m: m.ags)
    if len(municipalities) != 139 or len({m.ags for m in municipalities}) != 139:
        raise SystemExit(f"expected 139 unique municipalities, got {len(municipalities)}")
    return GazetteerFile(attribution=ATTRIBUTION, municipalities=municipalities)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS, help="shared/facts directory")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="target data directory")
    args = parser.parse_args(argv)

    gazetteer = build(args.facts)
    args.out.mkdir(parents=True, exist_ok=True)
    header = "# Generated by tools/build_gazetteer.py from the project fact base – do not edit by hand.\n"
    body = yaml.safe_dump(gazetteer.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=110)
    (args.out / "gazetteer.yaml").write_text(header + body, encoding="utf-8")
    shutil.copyfile(args.facts / "geo" / "districts.geojson", args.out / "districts.geojson")
    (args.out / "GEO_ATTRIBUTION.md").write_text(ATTRIBUTION_MD, encoding="utf-8")
    print(f"wrote {len(gazetteer.municipalities)} municipalities to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
