"""Transport-neutral outbound delivery: what reminder fan-out and broadcasts talk to.

Each transport (Telegram, Matrix, console) provides a `Sender`; it applies its own rate limits
and turns platform errors into a `DeliveryResult`, so the dispatcher never sees a platform type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from handlers.turn import Reply


class DeliveryStatus(StrEnum):
    SENT = "sent"  # the platform confirmed the message
    BLOCKED = "blocked"  # the user blocked the bot / left: deactivate, never retry
    RETRY = "retry"  # rate limited or temporary fault: try again after `retry_after` seconds
    FAILED = "failed"  # permanent error for this message (e.g. bad request): do not retry
    SKIPPED = "skipped"  # not sent on purpose (a personal message, the chat is shared now): never retried


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: DeliveryStatus
    retry_after: float | None = None
    detail: str = ""  # for logs; never contains message text or tokens


class Sender(Protocol):
    """`personal=True`: the message is for the one person the chat was private with (a reminder of
    a subscription made there). A sender that finds the chat shared now must not send it and
    answers SKIPPED: the last check before a message could reach people who never subscribed."""

    transport: str

    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult: ...


class Runtime(Protocol):
    """A running transport: started and stopped by `bot.runner`, offering a Sender to the outbox."""

    @property
    def sender(self) -> Sender: ...

    def connected(self) -> bool:
        """For /healthz: receiving updates and able to send right now."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
