"""Building turns in tests: transports stamp `Turn.at` from their clock, tests from the process clock.

Under time-machine (a pinned test, or the whole suite shifted with BL_TEST_NOW) `system_clock()`
returns the travelled time, so a turn built here is "now" exactly as a transport would stamp it.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict, Unpack

from bot.clock import system_clock
from handlers.turn import Turn, TurnKind


class TurnContent(TypedDict, total=False):
    """What the user sent: a helper that sets the rest itself (sender, privacy) passes these through."""

    text: str
    option_id: str
    command: str
    args: str
    lat: float | None
    lon: float | None


class TurnFields(TurnContent, total=False):
    """All optional fields of a `Turn`, so helpers that pass them through keep their types."""

    language: str | None
    sender_id: str
    private: bool
    direct_url: str


def make_turn(
    transport: str, user: str, kind: TurnKind, *, at: dt.datetime | None = None, **kw: Unpack[TurnFields]
) -> Turn:
    return Turn(transport, user, kind, at=at or system_clock(), **kw)
