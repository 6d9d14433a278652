"""A direct chat that stops being one: its personal reminders pause, and the room is told once.

A Matrix room is the conversation, so a subscription made in a direct chat belongs to the room
row. When a third member joins (or is invited), reminders sent there would tell people who never
subscribed what the first person subscribed to. So when a room gets more than the bot and one
person, its personal subscription ends with the reason "shared", whatever is queued for it is
skipped, and one neutral notice says that reminders are paused here and how to get them again
in a direct chat — without naming an event, a topic or the person's profile.

Paused stays paused: when the room is the bot and the same person again, reminders do NOT resume
by themselves. Membership can flap (an invitation declined, a guest leaving and coming back), and
each flap would silently restart messages the person was told had stopped; the person may by
then have subscribed in a new direct chat, and two rooms would get the same reminders; and a
room that was shared once keeps its history for whoever joins again. One `!abo` in a direct
chat — this very room, once it is 1:1 again — brings them back, by the person's own choice.

The sender checks the same rule at send time (`is_one_to_one`), for whatever the runtime has not
seen yet: such a row is marked skipped ("shared room"), never sent and never retried.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from nio import MatrixRoom, RoomMemberEvent, SyncResponse

from bot.matrix import SPEC
from db import events, users
from db.engine import session_scope

TRANSPORT = SPEC.name
SHARED_ROOM = "shared room: personal message not sent"


def is_one_to_one(room: MatrixRoom) -> bool:
    """The bot and at most one person, counting invited members (an invitee may read along soon)."""
    return len(room.users) <= 2


def rooms_with_member_changes(resp: SyncResponse) -> set[str]:
    """Joined rooms whose membership changed in this sync (timeline or state section)."""
    changed: set[str] = set()
    for room_id, info in resp.rooms.join.items():
        seen: list[Any] = [*info.state, *info.timeline.events]
        if any(isinstance(event, RoomMemberEvent) for event in seen):
            changed.add(room_id)
    return changed


def pause_personal(engine: sa.Engine, room_id: str, now: dt.datetime) -> str | None:
    """Ends the room's personal subscription; the room's language if there was one to pause."""
    with session_scope(engine) as session:
        user = users.find_user(session, TRANSPORT, room_id)
        if user is None or user.id is None:
            return None
        if not events.pause_personal_subscription(session, user.id, now):
            return None
        return user.language
