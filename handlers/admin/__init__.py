"""Partner administration inside the messenger (only for ADMIN_IDS): statistics, events, broadcasts.

One module per wizard (new event, change/cancel, broadcast) plus statistics; each registers its
commands and its pending step table like every other feature (`register(registry)`). The
buttons of all wizards share the option prefix "adm" (ids already sent to chats must keep
working), so they are routed here through one table from action to function.

Admin rights belong to a person, and so does a wizard in progress: in a group only the admin
who started it can answer or confirm it (see FeatureRegistry.resolve). Every admin action is
written to the audit log; non-admins never learn these commands exist.
"""

from __future__ import annotations

from handlers.admin import broadcast, change_event, new_event, stats
from handlers.admin.common import ButtonFn, abort, stale
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Reply

BUTTONS: dict[str, ButtonFn] = {
    "abort": abort,
    **new_event.BUTTONS,
    **change_event.BUTTONS,
    **broadcast.BUTTONS,
}


def admin_option(ctx: FeatureContext) -> list[Reply]:
    """'adm:<action>[:<value>]' -> the action's function with the value."""
    _, action, value = [*ctx.turn.option_id.split(":", 2), "", ""][:3]
    return BUTTONS.get(action, stale)(ctx, value)


def register(registry: FeatureRegistry) -> None:
    for module in (stats, new_event, change_event, broadcast):
        module.register(registry)
    registry.options("adm", admin=True, owned=True)(admin_option)
