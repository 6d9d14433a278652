"""The course model the dialog sees, the filter a user sets, and the raw API shapes they come from.

Which shape, and why: the current API (`/pc/v2/bildungsangebot`, `X-API-Key`, OpenAPI 2.0.1 in
AndreasFischer1985/weiterbildungssuche-api `openapi.yaml`, commit b2d4d63) lists the parameters
but no response schema. The last description with one is the v1 file (same repository, commit
4c53923: `components.schemas.Response`, `_embedded.termine[]`). Stored v2 clients read the same
envelope (`_embedded.termine[].angebot.bildungsanbieter`, `page.totalPages`), and a recorded
response (SharifMrCreed/BundesArgenturFurArbeit `ExampleResponse.py`) shows where v1's description
and the live data differ: `ortStrasse` instead of `ortStraße`, `beginn`/`ende` as epoch
milliseconds instead of strings, and the provider under `angebot.bildungsanbieter`. Both spellings
are accepted here; every field is optional and unknown fields are ignored, so a sparse record
still maps and a changed one does not break the search.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Radius = Literal[25, 50]
TimeMode = Literal["alle", "voll", "teil"]
FormMode = Literal["alle", "online", "vorort"]
RADII: tuple[Radius, ...] = (25, 50)


class CourseFilter(BaseModel):
    """What the user searches for and how they filtered it; stored in the conversation state."""

    model_config = ConfigDict(frozen=True)

    keyword: str = Field(default="", max_length=60)
    radius: Radius = 25
    time: TimeMode = "alle"
    voucher_only: bool = False  # only courses approved for the Bildungsgutschein (AZAV)
    form: FormMode = "alle"


class CourseQuery(BaseModel):
    """One search as sent to the API: a filter plus the place it is centred on."""

    model_config = ConfigDict(frozen=True)

    filter: CourseFilter
    place: str  # shown to the user and sent as the name part of `orte`
    lat: float
    lon: float

    def cache_key(self) -> str:
        """The same search in other spelling (case, spaces, coordinate noise) is the same key."""
        f = self.filter
        words = " ".join(f.keyword.lower().split())
        return (
            f"v2|sw={words}|at={self.lat:.3f},{self.lon:.3f}|uk={f.radius}|uz={f.time}"
            f"|bg={int(f.voucher_only)}|uf={f.form}"
        )[:255]


TimeOfDay = Literal["voll", "teil"]
Form = Literal["online", "vorort", "kombiniert"]


class Course(BaseModel):
    """One dated course (a `termin` of an `angebot`), as much as the record told us."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    provider: str | None = None
    town: str | None = None
    postcode: str | None = None
    start: dt.date | None = None
    individual_start: bool | None = None  # "individueller Einstieg": start any time
    time: TimeOfDay | None = None
    form: Form | None = None
    form_label: str | None = None
    voucher: bool | None = None  # None: the record does not say
    url: str | None = None
    lat: float | None = None
    lon: float | None = None


class CoursePage(BaseModel):
    """Mapped courses of one or more pages, and how much the API said there was."""

    courses: list[Course] = Field(default_factory=list)
    total: int | None = None
    skipped: int = 0  # malformed records left out


# --- raw response shapes (documented v1 schema and recorded v2 responses; see the docstring) ---


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RawLabel(_Raw):
    id: int | None = None
    bezeichnung: str | None = None


class RawOrt(_Raw):
    plz: str | int | None = None
    name: str | None = None


class RawKoordinaten(_Raw):
    lat: float | None = None
    lon: float | None = None


class RawAdresse(_Raw):
    bezeichnung: str | None = None
    ort: RawOrt | None = Field(default=None, validation_alias=AliasChoices("ortStrasse", "ortStraße"))
    koordinaten: RawKoordinaten | None = None


class RawAnbieter(_Raw):
    name: str | None = None
    homepage: str | None = None
    adresse: RawAdresse | None = None


class RawAngebot(_Raw):
    id: int | str | None = None
    titel: str | None = None
    link: str | None = None
    bildungsanbieter: RawAnbieter | None = None


class RawTermin(_Raw):
    id: int | str | None = None
    angebot: RawAngebot | None = None
    adresse: RawAdresse | None = None
    unterrichtsform: RawLabel | None = None
    unterrichtszeit: RawLabel | None = None
    foerderung: bool | None = None  # on the termin: approved for the Bildungsgutschein
    link: str | None = None
    beginn: int | float | str | None = None
    individuellerEinstieg: bool | None = None


class RawPageInfo(_Raw):
    size: int | None = None
    totalElements: int | None = None
    totalPages: int | None = None
    number: int | None = None
