"""The Starlette app: `/healthz` (200 or 503, JSON) and `/metrics` (Prometheus text format).

Both are cheap and read-only; neither needs authentication, but both are meant for the operator's
network (HTTP_HOST defaults to 127.0.0.1): the reverse proxy does not route them to the internet.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web.health import Health
from bot.web.metrics import DatabaseGauges


def create_app(health: Health, registry: CollectorRegistry = REGISTRY) -> Starlette:
    """`registry` holds the process's counters; the database gauges are this app's own (a registry of
    their own, so two bots in one test process never report each other's database)."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(DatabaseGauges(health.engine))

    async def healthz(request: Request) -> Response:
        healthy, body = await health.report()
        return JSONResponse(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})

    async def metrics(request: Request) -> Response:
        # the database gauges query the database: never on the event loop
        body = await asyncio.to_thread(lambda: generate_latest(registry) + generate_latest(gauges))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])
