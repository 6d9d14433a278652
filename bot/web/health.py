"""What `/healthz` checks: the database answers, every started transport is connected, the schedulers run.

Each check is a small callable, so the runner wires in exactly what this process started and a
test can wire in what it needs. The database check runs in a thread with a time limit: a database
that hangs (a dropped network route) must not hang the health check, or the orchestrator would see
a timeout instead of a clear 503 with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

DB_TIMEOUT_SECONDS = 3.0


def ping_database(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


@dataclass
class Health:
    engine: sa.Engine
    transports: dict[str, Callable[[], bool]] = field(default_factory=dict)
    schedulers: dict[str, Callable[[], bool]] = field(default_factory=dict)
    ready: bool = True  # False while `bildungslotse run` is still starting its parts
    # facts shown beside the checks, never failing them (e.g. the offer base revision this process uses)
    info: dict[str, Callable[[], Any]] = field(default_factory=dict)
    db_timeout: float = DB_TIMEOUT_SECONDS

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, JSON body). The body names each check and, for a failure, a short reason
        without secrets (never the database URL's password)."""
        checks: dict[str, dict[str, Any]] = {"database": await self._database()}
        if not self.ready:
            checks["startup"] = {"ok": False, "error": "starting"}
        for name, connected in self.transports.items():
            checks[f"transport:{name}"] = _flag(connected, "not connected")
        for name, alive in self.schedulers.items():
            checks[f"scheduler:{name}"] = _flag(alive, "not running")
        healthy = all(check["ok"] for check in checks.values())
        body: dict[str, Any] = {"status": "ok" if healthy else "unavailable", "checks": checks}
        body.update({name: fact() for name, fact in self.info.items()})
        return healthy, body

    async def _database(self) -> dict[str, Any]:
        try:
            await asyncio.wait_for(asyncio.to_thread(ping_database, self.engine), self.db_timeout)
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {self.db_timeout:g} s"}
        except sa.exc.SQLAlchemyError as exc:
            return {"ok": False, "error": type(getattr(exc, "orig", None) or exc).__name__}
        return {"ok": True}


def _flag(check: Callable[[], bool], reason: str) -> dict[str, Any]:
    try:
        ok = bool(check())
    except Exception as exc:  # a broken check is an unhealthy component, not a broken endpoint
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True} if ok else {"ok": False, "error": reason}
