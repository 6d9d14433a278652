"""Validated shapes of the bundled data files.

Pydantic models reject anything malformed before a single row is written, and their error
locations let the loader name file, entry and field in one clear line.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator

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


class Amount(Strict):
    """A figure that changes over time: always shown together with its 'Stand'."""

    text: Text
    as_of: ShortText


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
    source_url: HttpUrl
    sources: list[SourceId] = Field(min_length=1)
    last_checked: dt.date

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
