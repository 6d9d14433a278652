"""Building turns in tests: transports stamp `Turn.at` from their clock, tests from the process clock.

Under time-machine (a pinned test, or the whole suite shifted with BL_TEST_NOW) `system_clock()`
returns the travelled time, so a turn built here is "now" exactly as a transport would stamp it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.clock import system_clock
from handlers.turn import Turn, TurnKind


def make_turn(transport: str, user: str, kind: TurnKind, *, at: dt.datetime | None = None, **kw: Any) -> Turn:
    return Turn(transport, user, kind, at=at or system_clock(), **kw)
