"""What identifies a transport, in one small record: its name, command prefix, set-up and start.

Kept apart from the registry (`bot.transports`) so a transport package can define its own spec
in its `__init__` without importing the other transports; nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.conversation import ConversationService
    from bot.outbound import Runtime
    from bot.settings import Settings


@dataclass(frozen=True)
class TransportSpec:
    name: str  # stored with every user row (users.transport) and in ADMIN_IDS: never rename
    command_prefix: str  # what a command starts with, as the help texts show it ("/" or "!")
    # the environment variables that switch the transport on, for the "nothing configured" message
    setup_hint: str = ""
    is_configured: Callable[[Settings], bool] = lambda settings: False
    # builds the runtime `bildungslotse run` starts (imports the platform library only when called);
    # None for a transport that has its own entry point (the console: `bildungslotse chat`)
    create_runtime: Callable[[Settings, ConversationService], Runtime] | None = None
    # whether an id names one person (ADMIN_IDS): a group chat or a room would make every member an admin
    is_person_id: Callable[[str], bool] = lambda ident: bool(ident)
    person_id_example: str = "<id>"
