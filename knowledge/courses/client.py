"""The async client of the Weiterbildungssuche: one search, a few pages, a hard time budget.

Authentication is the documented public client id in the `X-API-Key` header (OpenAPI 2.0.1,
`components.securitySchemes.APIKeyHeaders`); the OAuth client-credentials flow of v1 is not used.
Every way a search can fail (401, 5xx, a timeout, a connection error, a body that is not the
documented envelope) becomes one `CourseSearchUnavailable` with a short reason for the log: the
dialog says "Kurssuche gerade nicht erreichbar" and carries on with the curated offers.

Time: each request has `timeout` seconds (connect, read, write, pool), and the whole search –
pages and retries together – has `deadline` seconds (≤ 5 s by default), because the user waits
for the answer. 5xx, 429, timeouts and connection errors are retried `retries` times with a
short pause; 401/403 and malformed bodies are not (asking again would not help).

Each search opens its own `httpx.AsyncClient`: searches are rare (results are cached for hours),
and a client per search is bound to the running event loop of that moment, which the bot, the
console and the tests each own differently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from knowledge.courses.mapping import MalformedResponse, parse_page, total_pages
from knowledge.courses.model import Course, CoursePage, CourseQuery

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.arbeitsagentur.de/infosysbub/wbsuche"  # openapi.yaml `servers`
DEFAULT_API_KEY = "infosysbub-wbsuche"  # openapi.yaml: the Weiterbildungssuche's public client id
DEFAULT_CACHE_TTL = dt.timedelta(hours=6)  # COURSE_CACHE_TTL: the same search is reused this long
SEARCH_PATH = "/pc/v2/bildungsangebot"
PAGE_SIZE = 20  # the size stored v2 clients send; the description itself lists no `size`
# `uf` (Unterrichtsform) codes of the v2 description: 1xx in person, 2xx digital, 4xx distance learning
IN_PERSON_FORMS = "101,102,103,104,105"
ONLINE_FORMS = "201,202,203,204,206,401,402,403"


class CourseSearchUnavailable(Exception):
    """The search gave no usable answer; `reason` is for the log, never shown to users."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def query_params(query: CourseQuery, page: int) -> dict[str, str]:
    f = query.filter
    params = {
        "orte": f"{query.place}_{query.lon:.5f}_{query.lat:.5f}",  # Name_lon_lat, as documented
        "uk": str(f.radius),
        "page": str(page),
        "size": str(PAGE_SIZE),
    }
    if f.keyword.strip():
        params["sw"] = f.keyword.strip()
    if f.voucher_only:
        params["bg"] = "true"
    if f.time != "alle":
        params["uz"] = "1" if f.time == "voll" else "2"
    if f.form == "vorort":
        params["uf"] = IN_PERSON_FORMS
    elif f.form == "online":
        params["uf"] = ONLINE_FORMS
        params["ortsunabhaengig"] = "true"
    return params


class CourseClient:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = DEFAULT_API_KEY,
        *,
        timeout: float = 3.0,
        deadline: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
        max_pages: int = 3,
    ) -> None:
        self.url = base_url.rstrip("/") + SEARCH_PATH
        self.api_key = api_key
        self.timeout = timeout
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self.max_pages = max_pages

    async def search(
        self, query: CourseQuery, want: int = 5, keep: Callable[[Course], bool] = lambda c: True
    ) -> CoursePage:
        """Pages until `want` courses pass `keep` (or the pages run out); all mapped courses returned."""
        try:
            async with asyncio.timeout(self.deadline):
                return await self._search(query, want, keep)
        except TimeoutError:
            raise CourseSearchUnavailable("deadline exceeded") from None

    async def _search(self, query: CourseQuery, want: int, keep: Callable[[Course], bool]) -> CoursePage:
        import httpx  # at the first search, not at start-up: about 70 ms of every `bildungslotse chat` start

        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        collected = CoursePage()
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), headers=headers) as http:
            page = 0
            while True:
                payload = await self._get(http, query_params(query, page))
                try:
                    found = parse_page(payload)
                except MalformedResponse as exc:
                    raise CourseSearchUnavailable(f"malformed response: {exc}") from None
                collected.courses.extend(found.courses)
                collected.skipped += found.skipped
                if collected.total is None:
                    collected.total = found.total
                page += 1
                usable = sum(1 for c in collected.courses if keep(c))
                if usable >= want or page >= min(total_pages(payload), self.max_pages) or not found.courses:
                    return collected

    async def _get(self, http: httpx.AsyncClient, params: dict[str, str]) -> object:
        import httpx

        attempt = 0
        while True:
            try:
                response = await http.get(self.url, params=params)
            except httpx.TimeoutException:
                reason = "timeout"
            except httpx.TransportError as exc:
                reason = f"connection: {type(exc).__name__}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        raise CourseSearchUnavailable("body is not JSON") from None
                if status in (401, 403):
                    raise CourseSearchUnavailable(f"HTTP {status}: the API key was refused")
                if status != 429 and status < 500:
                    raise CourseSearchUnavailable(f"HTTP {status}")
                reason = f"HTTP {status}"
            if attempt >= self.retries:
                raise CourseSearchUnavailable(reason)
            attempt += 1
            log.info("course search: %s, retrying (%d of %d)", reason, attempt, self.retries)
            await asyncio.sleep(self.backoff * attempt)
