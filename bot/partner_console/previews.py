"""How an event looks in the messengers: the bot's own event card, through each transport's renderer.

The console shows exactly what /termine sends (handlers.events.event_reply), rendered by the
Telegram renderer (plain text and buttons) and the Matrix renderer (HTML body, numbered options),
so a preview can never drift from the real message.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.matrix.render import render as matrix_render
from bot.telegram.render import messages_for
from db.event_models import Event
from db.events import unsaved_event
from handlers.events import event_reply
from knowledge.events import EventIn


@dataclass(frozen=True)
class Preview:
    telegram_text: str
    telegram_buttons: tuple[str, ...]
    matrix_html: Markup  # built by the Matrix renderer, which escapes every text it is given


def as_event(data: EventIn) -> Event:
    """An unsaved event, shaped like a stored one (id 0), for previews before saving."""
    event = unsaved_event(data)
    event.id = 0
    return event


def preview(event: Event, organiser: str | None, tz: ZoneInfo) -> Preview:
    reply = event_reply("de", event, organiser, tz)
    messages = messages_for(reply)
    buttons: list[str] = []
    for message in messages:
        if message.markup is not None:
            buttons += [b.text for row in message.markup.inline_keyboard for b in row]
    out = matrix_render([reply], "de")
    rich = "".join(str(c.get("formatted_body", "")) for c in out.contents)
    return Preview("\n".join(m.text for m in messages), tuple(buttons), Markup(rich))
