"""The registry of transports: the one list `bildungslotse run`, ADMIN_IDS and the help texts consult.

Adding a fourth transport means one new package and one line here:
1. a package `bot/<name>/` whose `__init__.py` defines `SPEC = TransportSpec(name=..., command_prefix=...,
   setup_hint=..., is_configured=..., create_runtime=...)` (see `bot/telegram/__init__.py`); its
   runtime (`bot.outbound.Runtime`) offers a `Sender` for reminders and broadcasts and says whether
   it is `connected()` (for /healthz);
2. its `SPEC` appended to `TRANSPORTS` below.
Its settings go into `bot.settings.Settings`. The dialog core never imports this module: it gets
the command prefixes as a mapping from `bot.conversation`.
"""

from __future__ import annotations

from bot import console, matrix, telegram
from bot.transport_spec import TransportSpec

TRANSPORTS: tuple[TransportSpec, ...] = (telegram.SPEC, matrix.SPEC, console.SPEC)
DEFAULT_COMMAND_PREFIX = "/"


def names() -> frozenset[str]:
    return frozenset(spec.name for spec in TRANSPORTS)


def command_prefixes() -> dict[str, str]:
    return {spec.name: spec.command_prefix for spec in TRANSPORTS}


def command_prefix(transport: str) -> str:
    return command_prefixes().get(transport, DEFAULT_COMMAND_PREFIX)


def startable() -> tuple[TransportSpec, ...]:
    """The transports `bildungslotse run` can start (the console has its own command)."""
    return tuple(spec for spec in TRANSPORTS if spec.create_runtime is not None)
