"""Validated shapes of the bundled data files.

Pydantic models reject anything malformed before a single row is written, and their error
locations let the loader name file, entry and field in one clear line.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)

from knowledge.vocabulary import District, Goal, Sector, Situation

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,40}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,60}$")]

ALL: Literal["all"] = "all"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfferKind(StrEnum):
    FOERDERUNG = "foerderung"  # funding programme
    BERATUNG = "beratung"  # counselling / contact point
    AUSBILDUNG = "ausbildung"  # vocational training place / school
    STUDIUM = "studium"
    WEITERBILDUNG = "weiterbildung"
    NETZWERK = "netzwerk"


class Scope(StrEnum):
    """How far an offer reaches; decides whether it is shown to people outside the region."""

    BUND = "bund"
    LAND = "land"
    REGION = "region"


class StandPrecision(StrEnum):
    """How precisely a source dates a figure; anything but EXACT must be confirmed in counselling."""

    EXACT = "exact"  # a dated legal change or a dated source ("1.8.2024", "Programm 2/2025")
    VAGUE = "vague"  # only a year or a period ("AFBG-Reform 2020", "Stand 2023")
    UNDATED = "undated"  # the source gives no date at all


UNDATED_MARKERS = ("ohne datum", "quellenstand bis")


class Amount(Strict):
    """A figure that changes over time: always shown together with its 'Stand'.

    A vague or missing date is data, not prose: `stand_precision` makes the renderer add a visible
    "please confirm in counselling" with the source year, and a `note` carries a fact-base warning.
    """

    text: Text
    stand: ShortText
    stand_precision: StandPrecision = StandPrecision.EXACT
    source_year: int | None = Field(default=None, ge=1990, le=2100)
    note: ShortText | None = None

    @model_validator(mode="after")
    def _precision_fits_stand(self) -> Amount:
        lowered = self.stand.lower()
        if self.stand_precision is StandPrecision.EXACT and any(m in lowered for m in UNDATED_MARKERS):
            raise ValueError("stand has no exact date: set stand_precision to 'undated' or 'vague'")
        if self.stand_precision is StandPrecision.VAGUE and self.source_year is None:
            raise ValueError("a vague stand needs source_year")
        return self

    @property
    def needs_confirmation(self) -> bool:
        return self.stand_precision is not StandPrecision.EXACT or self.note is not None


class OfferStatus(StrEnum):
    CURRENT = "current"
    CLOSED = "closed"  # e.g. the last funding round ended: never ranked, shown only with this status


class Offer(Strict):
    id: Id
    title: ShortText
    kind: OfferKind
    summary: Text
    summary_en: Text | None = None
    situations: list[Situation] = Field(min_length=1)
    districts: list[District] | Literal["all"]
    scope: Scope
    sectors: list[Sector] | Literal["all"]
    goals: list[Goal] = Field(min_length=1)
    keywords: list[ShortText] = []
    provider: Id
    next_step: Text
    legal_basis: Text | None = None
    amounts: list[Amount] = []
    status: OfferStatus = OfferStatus.CURRENT
    status_note: Text | None = None
    source_url: HttpUrl
    # False: this exact address never appeared in a stored source (fact base `url_verified: false`)
    source_url_seen: bool = True
    source_stand: ShortText | None = None  # the source's own date, as the fact base gives it
    sources: list[SourceId] = Field(min_length=1)
    compiled_on: dt.date  # when the data file was compiled from the fact base; nothing was checked live
    # set only by a person's check (`bildungslotse knowledge verify`), never by a data file
    verified_on: dt.date | None = None
    verified_by: ShortText | None = None

    @model_validator(mode="after")
    def _honest_source(self) -> Offer:
        if not self.source_url_seen and self.source_stand is None:
            raise ValueError("an address not seen in a source needs source_stand (the source's own date)")
        if self.status is OfferStatus.CLOSED and self.status_note is None:
            raise ValueError("a closed offer needs status_note")
        if (self.verified_on is None) != (self.verified_by is None):
            raise ValueError("verified_on and verified_by go together")
        return self

    @field_validator("districts")
    @classmethod
    def _no_empty_districts(cls, v: list[District] | str) -> list[District] | str:
        if isinstance(v, list) and not v:
            raise ValueError("districts must list at least one district or be 'all'")
        return v

    @field_validator("sectors")
    @classmethod
    def _no_empty_sectors(cls, v: list[Sector] | str) -> list[Sector] | str:
        if isinstance(v, list) and not v:
            raise ValueError("sectors must list at least one sector or be 'all'")
        return v

    def serves_district(self, district: District) -> bool:
        if district is District.AUSSERHALB:
            return self.scope is not Scope.REGION
        return self.districts == ALL or district in self.districts

    def serves_sector(self, sector: Sector) -> bool:
        return self.sectors == ALL or sector in self.sectors


class Institution(Strict):
    id: Id
    name: ShortText
    kind: ShortText
    summary: Text
    districts: list[District] | Literal["all"]
    url: HttpUrl | None = None
    url_seen: bool = True  # False: address not seen in a stored source (fact base `url_verified: false`)
    phone: ShortText | None = None
    email: ShortText | None = None
    address: ShortText | None = None
    sources: list[SourceId] = Field(min_length=1)


class Municipality(Strict):
    ags: Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
    name: ShortText
    district: District
    postcodes: list[Annotated[str, StringConstraints(pattern=r"^\d{5}$")]] = Field(min_length=1)
    aliases: list[ShortText] = []
    localities: list[ShortText] = []
    lat: float
    lon: float


class OffersFile(Strict):
    offers: list[Offer]


class InstitutionsFile(Strict):
    institutions: list[Institution]


class GazetteerFile(Strict):
    attribution: Text
    municipalities: list[Municipality]


class Source(Strict):
    """A public document an offer or institution is based on (copied from the project's fact base)."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,60}$")]
    title: ShortText
    url: HttpUrl


class SourcesFile(Strict):
    attribution: Text
    sources: list[Source]
