"""A stand-in for the Weiterbildungssuche on 127.0.0.1: hand-made records in the documented shape.

It answers `GET /pc/v2/bildungsangebot` like the real service is described: the `X-API-Key` header
must carry the key (401 otherwise), `sw` matches titles, `orte=Name_lon_lat` with `uk` keeps
records within the radius (records without coordinates stay; with `ortsunabhaengig=true` digital
forms stay too), `bg=true`, `uz` and `uf` filter, and `page`/`size` page the rest under
`{"_embedded": {"termine": [...]}, "page": {...}}`. `mode` switches to the failures the client
must survive: "500", "slow" (answers after `delay` seconds), "not_json" and "bad_envelope".
Every request is recorded, so tests can count what reached "the API".
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "courses"
KEY = "infosysbub-wbsuche"


def fixture(name: str) -> list[Any]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    records = data["termine"]
    assert isinstance(records, list)
    return records


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


class CourseApiStub:
    def __init__(self, records: list[Any] | None = None, key: str = KEY) -> None:
        self.records = records if records is not None else fixture("termine_v2_region.json")
        self.key = key
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[dict[str, str]] = []
        self.keys: list[str | None] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> CourseApiStub:
        app = web.Application()
        app.router.add_get("/pc/v2/bildungsangebot", self._search)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _search(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        self.requests.append(params)
        self.keys.append(request.headers.get("X-API-Key"))
        if request.headers.get("X-API-Key") != self.key:
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.mode == "500":
            return web.json_response({"error": "internal"}, status=500)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "not_json":
            return web.Response(text="<html>Wartungsarbeiten</html>", content_type="text/html")
        if self.mode == "bad_envelope":
            return web.json_response({"_embedded": {"termine": {"nicht": "eine Liste"}}})
        found = [r for r in self.records if self._matches(r, params)]
        page, size = int(params.get("page", "0")), int(params.get("size", "20"))
        chunk = found[page * size : (page + 1) * size]
        pages = max(1, math.ceil(len(found) / size))
        body = {
            "_embedded": {"termine": chunk},
            "page": {"size": size, "totalElements": len(found), "totalPages": pages, "number": page},
        }
        return web.json_response(body)

    @staticmethod
    def _matches(record: Any, params: dict[str, str]) -> bool:
        if not isinstance(record, dict):
            return True  # malformed records are served as they are
        angebot = record.get("angebot") or {}
        title = angebot.get("titel") if isinstance(angebot, dict) else None
        if params.get("sw") and isinstance(title, str) and params["sw"].lower() not in title.lower():
            return False
        form = (record.get("unterrichtsform") or {}).get("id")
        if params.get("bg") == "true" and record.get("foerderung") is False:
            return False
        if params.get("uz") and (record.get("unterrichtszeit") or {}).get("id") not in [
            int(v) for v in params["uz"].split(",")
        ]:
            return False
        if params.get("uf") and form not in {int(v) for v in params["uf"].split(",")}:
            return False
        coords = (record.get("adresse") or {}).get("koordinaten") or {}
        if params.get("orte") and params.get("uk", "Bundesweit") != "Bundesweit" and coords.get("lat"):
            if params.get("ortsunabhaengig") == "true" and isinstance(form, int) and form // 100 in (2, 4):
                return True
            _, lon, lat = params["orte"].rsplit("_", 2)
            try:
                distance = _km(float(lat), float(lon), float(coords["lat"]), float(coords["lon"]))
            except (TypeError, ValueError):
                return True
            return distance <= float(params["uk"])
        return True
