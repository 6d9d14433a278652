"""From an API response to the project's own courses: tolerant per field, strict per record.

A record that is not an object, has no title or whose fields have the wrong types is left out
and counted (`CoursePage.skipped`); one bad record never costs the others. A response whose
envelope is not `{"_embedded": {"termine": [...]}}` (an empty result may omit `_embedded`) is
a `MalformedResponse`: the client turns it into "course search unavailable", never into an empty
list that would look like "no courses near you".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from knowledge.courses.model import Course, CoursePage, Form, RawAdresse, RawPageInfo, RawTermin, TimeOfDay

BERLIN = ZoneInfo("Europe/Berlin")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


class MalformedResponse(ValueError):
    """The response is not the documented envelope."""


def parse_page(payload: object) -> CoursePage:
    if not isinstance(payload, dict):
        raise MalformedResponse("response is not a JSON object")
    embedded = payload.get("_embedded", {})
    if not isinstance(embedded, dict):
        raise MalformedResponse("_embedded is not an object")
    records = embedded.get("termine", [])
    if not isinstance(records, list):
        raise MalformedResponse("_embedded.termine is not a list")
    if "_embedded" not in payload and "page" not in payload:
        raise MalformedResponse("neither _embedded nor page in the response")
    courses: list[Course] = []
    skipped = 0
    for raw in records:
        course = to_course(raw)
        if course is None:
            skipped += 1
        else:
            courses.append(course)
    total: int | None = None
    page = payload.get("page")
    if isinstance(page, dict):
        try:
            total = RawPageInfo.model_validate(page).totalElements
        except ValidationError:
            total = None
    return CoursePage(courses=courses, total=total, skipped=skipped)


def total_pages(payload: object) -> int:
    if isinstance(payload, dict) and isinstance(payload.get("page"), dict):
        value = payload["page"].get("totalPages")
        if isinstance(value, int) and value >= 0:
            return value
    return 1


def to_course(raw: Any) -> Course | None:
    if not isinstance(raw, dict):
        return None
    try:
        termin = RawTermin.model_validate(raw)
    except ValidationError:
        return None
    angebot = termin.angebot
    title = _clean(angebot.titel if angebot else None)
    if not title:
        return None
    provider_info = angebot.bildungsanbieter if angebot else None
    place: RawAdresse | None = termin.adresse or (provider_info.adresse if provider_info else None)
    town = _clean(place.ort.name if place and place.ort else None)
    postcode = place.ort.plz if place and place.ort else None
    coords = place.koordinaten if place else None
    lat, lon = (coords.lat, coords.lon) if coords else (None, None)
    if lat is not None and lon is not None and not (math.isfinite(lat) and math.isfinite(lon)):
        lat = lon = None
    provider = _clean(provider_info.name if provider_info else None) or _clean(
        termin.adresse.bezeichnung if termin.adresse else None
    )
    url = _url(termin.link) or _url(angebot.link if angebot else None)
    url = url or _url(provider_info.homepage if provider_info else None)
    ident = termin.id if termin.id is not None else (angebot.id if angebot else None)
    try:
        return Course(
            id=str(ident) if ident is not None else title[:40],
            title=title[:200],
            provider=provider[:200] if provider else None,
            town=town[:100] if town else None,
            postcode=str(postcode)[:10] if postcode is not None else None,
            start=parse_start(termin.beginn),
            individual_start=termin.individuellerEinstieg,
            time=_time(termin.unterrichtszeit.id if termin.unterrichtszeit else None),
            form=_form(termin.unterrichtsform.id if termin.unterrichtsform else None),
            form_label=_clean(termin.unterrichtsform.bezeichnung if termin.unterrichtsform else None),
            voucher=termin.foerderung,
            url=url,
            lat=lat,
            lon=lon,
        )
    except ValidationError:
        return None


def parse_start(value: int | float | str | None) -> dt.date | None:
    """Epoch milliseconds (recorded v2 data), ISO dates (v1 description: string) or 13.05.2026."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC).astimezone(BERLIN).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = value.strip()
    if m := _GERMAN_DATE.match(text):
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _time(code: int | None) -> TimeOfDay | None:
    """`unterrichtszeit.id`, as the `uz` parameter: 1 = Vollzeit, 2 = Teilzeit."""
    return {1: "voll", 2: "teil"}.get(code) if code is not None else None  # type: ignore[return-value]


def _form(code: int | None) -> Form | None:
    """`unterrichtsform.id`, as the `uf` parameter: 1xx in person, 2xx digital, 3xx combined, 4xx distance."""
    if code is None:
        return None
    group = code // 100
    if group == 1:
        return "vorort"
    if group in (2, 4):
        return "online"
    if group == 3:
        return "kombiniert"
    return None


_TAG = re.compile(r"<[^>]+>")


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(_TAG.sub(" ", text).split())
    return text or None


def _url(link: str | None) -> str | None:
    """Links in the data are often written without a scheme ("www.anbieter.de/angebot")."""
    link = (link or "").strip()
    if not link or any(c.isspace() for c in link) or len(link) > 500:
        return None
    if link.startswith(("http://", "https://")):
        return link
    if re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", link, re.IGNORECASE):
        return "https://" + link
    return None
