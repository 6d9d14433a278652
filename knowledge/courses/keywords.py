"""The search word (`sw`) for an advisory profile: what the person named, else goal and sector.

A course search needs one plain word the providers use in their titles. A word the person said
themselves and the offer base knows (`fachwirt`, `pflegefachkraft`) beats anything derived; else the
goal and sector give a generic word. Goals a course search does not serve (Studium, Anerkennung,
Beratung, Fachkräfte gewinnen, Ausbildung) give none: the dialog then offers no course section.
"""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.vocabulary import Goal, Sector

# conversation keywords (knowledge.base search terms) that are course names in their own right
NAMED: dict[str, str] = {
    "fachwirt": "Fachwirt",
    "meister": "Meister",
    "techniker": "Techniker",
    "betriebswirt": "Betriebswirt",
    "pflegefachkraft": "Pflegefachkraft",
    "pflegehelfer": "Pflegehelfer",
    "pflegehilfe": "Pflegehelfer",
    "erzieher": "Erzieher",
    "berufskraftfahrer": "Berufskraftfahrer",
    "staplerschein": "Gabelstapler",
    "schweißen": "Schweißen",
    "buchhaltung": "Buchhaltung",
    "sprachkurs": "Deutsch",
}

SECTOR_WORD: dict[Sector, str] = {
    Sector.HANDWERK: "Handwerk",
    Sector.INDUSTRIE: "Industrie",
    Sector.HANDEL: "Kaufmann",
    Sector.LANDWIRTSCHAFT: "Landwirtschaft",
    Sector.GESUNDHEIT: "Pflege",
    Sector.IT: "IT",
    Sector.LOGISTIK: "Logistik",
    Sector.GASTRONOMIE: "Gastronomie",
    Sector.OEFFENTLICH: "Verwaltung",
}

ADVANCEMENT: dict[Sector, str] = {
    Sector.HANDWERK: "Meister",
    Sector.INDUSTRIE: "Industriemeister",
    Sector.HANDEL: "Fachwirt",
    Sector.LANDWIRTSCHAFT: "Landwirtschaftsmeister",
    Sector.GESUNDHEIT: "Fachwirt Gesundheit",
    Sector.IT: "IT-Spezialist",
    Sector.LOGISTIK: "Logistikmeister",
    Sector.GASTRONOMIE: "Küchenmeister",
    Sector.OEFFENTLICH: "Verwaltungsfachwirt",
}

COURSE_GOALS: frozenset[Goal] = frozenset(
    {Goal.AUFSTIEG, Goal.WEITERBILDUNG, Goal.UMSCHULUNG, Goal.QUALIFIZIEREN, Goal.FOERDERUNG}
)


def search_word(goal: Goal | None, sector: Sector | None, keywords: Iterable[str] = ()) -> str | None:
    if goal not in COURSE_GOALS:
        return None
    for word in keywords:
        if named := NAMED.get(word.lower()):
            return named
    if goal is Goal.AUFSTIEG:
        return ADVANCEMENT.get(sector, "Fachwirt") if sector is not None else "Fachwirt"
    base = SECTOR_WORD.get(sector) if sector is not None else None
    if goal is Goal.UMSCHULUNG:
        return f"Umschulung {base}" if base else "Umschulung"
    return base or "Weiterbildung"
