"""Back-pressure for long polling: while TELEGRAM_MAX_PENDING_UPDATES updates are in progress, no
getUpdates goes out, and none ever fetches more than fit.

PTB's Updater calls `bot.get_updates` again as soon as the last call returned and puts every
update into an unbounded queue, from which the Application starts a task for each at once: a flood
(a campaign, the bot added to busy groups) would grow memory without bound. Telegram keeps an update
until a later getUpdates confirms it (by its offset), for 24 hours, so the place to wait is before
the fetch: what is not fetched stays at Telegram, in order, and nothing is dropped.

The hook is the bot's public `get_updates`, in an `ExtBot` subclass handed to PTB with
`ApplicationBuilder.bot` (PTB's documented way to bring one's own bot); the Updater, whose polling
loop lives in private methods, is left as it is. The count is the update processor's
(`bot.telegram.ordering`), the same the webhook's door uses.

One caveat of the Updater: when it stops it calls getUpdates once more to confirm what it fetched
(and drops what that call returns). That call must not wait for room, or a saturated bot could not
stop: the runtime calls `release()` before `Updater.stop()`.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ExtBot

from bot.telegram.ordering import PerChatUpdateProcessor

MAX_BATCH = 100  # the Bot API's upper bound for getUpdates' `limit`


class PollingBot(ExtBot[None]):
    """`ExtBot` whose getUpdates waits for room in `updates` (at most `max_pending` taken) and asks
    for no more updates than fit. Without `max_pending` it is a plain `ExtBot`."""

    def __init__(
        self,
        *args: Any,
        updates: PerChatUpdateProcessor | None = None,
        max_pending: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # PTB freezes its objects after __init__; attributes with a leading underscore stay settable
        self._room_in = updates if max_pending else None
        self._max_pending = max_pending or 0

    def release(self) -> None:
        """Stopping: the Updater's last getUpdates (confirming the offset) goes out at once."""
        self._room_in = None

    async def get_updates(
        self, offset: int | None = None, limit: int | None = None, *args: Any, **kwargs: Any
    ) -> tuple[Update, ...]:
        updates = self._room_in
        if updates is not None:
            room = await updates.room_for(self._max_pending)
            limit = min(limit or MAX_BATCH, room)
        fetched = await super().get_updates(offset, limit, *args, **kwargs)
        if updates is not None and self._room_in is updates:  # released meanwhile: PTB drops them
            updates.announce(len(fetched))
        return fetched
