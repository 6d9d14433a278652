"""The closed code lists the dialog, the data files and the matcher agree on.

Codes are short ASCII so they fit into Telegram callback data and stay stable when labels
(which live in the message catalogue) change or get translated.
"""

from __future__ import annotations

from enum import StrEnum


class Situation(StrEnum):
    BETRIEB = "betrieb"  # employer / business owner
    BESCHAEFTIGT = "beschaeftigt"  # employed, wants further training
    ARBEITSUCHEND = "arbeitsuchend"  # job seeker / reorientation
    SCHULE = "schule"  # school leaver, apprenticeship or study start
    AUSLAND = "ausland"  # foreign vocational qualification
    WIEDEREINSTIEG = "wiedereinstieg"  # returning to work


class District(StrEnum):
    LUENEBURG = "lueneburg"
    HARBURG = "harburg"
    UELZEN = "uelzen"
    LUECHOW_DANNENBERG = "luechow"
    AUSSERHALB = "ausserhalb"


REGION_DISTRICTS: tuple[District, ...] = (
    District.LUENEBURG,
    District.HARBURG,
    District.UELZEN,
    District.LUECHOW_DANNENBERG,
)

# Official district keys (AGS) of the four Landkreise, used by the gazetteer and geo lookup.
DISTRICT_BY_AGS: dict[str, District] = {
    "03355": District.LUENEBURG,
    "03353": District.HARBURG,
    "03360": District.UELZEN,
    "03354": District.LUECHOW_DANNENBERG,
}


class Sector(StrEnum):
    HANDWERK = "handwerk"
    INDUSTRIE = "industrie"
    HANDEL = "handel"  # Handel, Büro, Dienstleistung
    LANDWIRTSCHAFT = "landwirtschaft"
    GESUNDHEIT = "gesundheit"  # Gesundheit, Pflege, Soziales
    IT = "it"
    LOGISTIK = "logistik"
    GASTRONOMIE = "gastronomie"
    OEFFENTLICH = "oeffentlich"
    UNBEKANNT = "unbekannt"  # "weiß noch nicht"


class Goal(StrEnum):
    AUSBILDUNG = "ausbildung"
    STUDIUM = "studium"
    AUFSTIEG = "aufstieg"  # Meister, Fachwirt, Techniker
    WEITERBILDUNG = "weiterbildung"
    UMSCHULUNG = "umschulung"  # retraining, catching up on a vocational qualification
    ANERKENNUNG = "anerkennung"
    FOERDERUNG = "foerderung"  # funding
    QUALIFIZIEREN = "qualifizieren"  # employer: qualify staff
    GEWINNEN = "gewinnen"  # employer: win apprentices / skilled workers
    BERATUNG = "beratung"  # personal counselling


# Which goals are offered as buttons for which situation (order = button order).
GOALS_BY_SITUATION: dict[Situation, tuple[Goal, ...]] = {
    Situation.BETRIEB: (Goal.QUALIFIZIEREN, Goal.GEWINNEN, Goal.FOERDERUNG, Goal.BERATUNG),
    Situation.BESCHAEFTIGT: (
        Goal.AUFSTIEG,
        Goal.WEITERBILDUNG,
        Goal.STUDIUM,
        Goal.UMSCHULUNG,
        Goal.FOERDERUNG,
        Goal.BERATUNG,
    ),
    Situation.ARBEITSUCHEND: (
        Goal.UMSCHULUNG,
        Goal.WEITERBILDUNG,
        Goal.AUSBILDUNG,
        Goal.FOERDERUNG,
        Goal.BERATUNG,
    ),
    Situation.SCHULE: (Goal.AUSBILDUNG, Goal.STUDIUM, Goal.FOERDERUNG, Goal.BERATUNG),
    Situation.AUSLAND: (
        Goal.ANERKENNUNG,
        Goal.UMSCHULUNG,
        Goal.WEITERBILDUNG,
        Goal.FOERDERUNG,
        Goal.BERATUNG,
    ),
    Situation.WIEDEREINSTIEG: (
        Goal.WEITERBILDUNG,
        Goal.UMSCHULUNG,
        Goal.STUDIUM,
        Goal.FOERDERUNG,
        Goal.BERATUNG,
    ),
}
