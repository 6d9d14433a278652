"""Which invitations the bot accepts: direct chats, and rooms the operator listed in MATRIX_ALLOW_ROOMS.

Anyone on a federated homeserver can invite the bot anywhere; joining every room would let
strangers make it post into rooms it was never meant for and store their rooms' conversations.
So a direct chat (the invite's `is_direct` flag) is accepted — that is what the bot is for —
and any other room only when MATRIX_ALLOW_ROOMS names it: a room id (`!abc:example.org`), an
alias (`#beratung:example.org`) or a whole server (`:example.org`: rooms created there and
invitations from its accounts). Everything else is declined. Because `is_direct` is chosen by
the inviter, a "direct chat" that turns out to have other members when the bot arrives is left
again unless it is listed (`may_stay`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nio import InviteMemberEvent


@dataclass(frozen=True, slots=True)
class AllowList:
    room_ids: frozenset[str] = frozenset()
    aliases: frozenset[str] = frozenset()
    servers: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> AllowList:
        """'!a:x.org, #b:x.org, :y.org' → AllowList; anything else is a start-up error."""
        ids: set[str] = set()
        aliases: set[str] = set()
        servers: set[str] = set()
        for raw in (text or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            head, _, server = entry.partition(":")
            if entry.startswith(":") and len(entry) > 1 and not any(c.isspace() for c in entry):
                servers.add(entry[1:].casefold())
            elif entry.startswith("!") and server and len(head) > 1:
                ids.add(entry)
            elif entry.startswith("#") and server and len(head) > 1:
                aliases.add(entry)  # resolved as written; compared case-insensitively
            else:
                raise ValueError(
                    f"MATRIX_ALLOW_ROOMS: '{entry}' is neither a room id (!raum:example.org), "
                    "an alias (#raum:example.org) nor a server (:example.org)"
                )
        return cls(frozenset(ids), frozenset(aliases), frozenset(servers))

    def allows(self, room_id: str, aliases: Iterable[str] = (), inviter: str | None = None) -> bool:
        if room_id in self.room_ids:
            return True
        listed = {a.casefold() for a in self.aliases}
        if any(a.casefold() in listed for a in aliases):
            return True
        servers = {_server(room_id)}
        if inviter:
            servers.add(_server(inviter))
        return bool(servers & self.servers)


def _server(matrix_id: str) -> str:
    _, sep, server = matrix_id.partition(":")
    return server.casefold() if sep else ""


@dataclass(frozen=True, slots=True)
class Invitation:
    room_id: str
    inviter: str | None
    direct: bool
    aliases: tuple[str, ...]


def read_invitation(room_id: str, invite_state: Iterable[Any], account: str) -> Invitation:
    """What the stripped state of an invitation says: who invited, is it a direct chat, its aliases."""
    inviter: str | None = None
    direct = False
    aliases: list[str] = []
    for event in invite_state:
        if (
            isinstance(event, InviteMemberEvent)
            and event.state_key == account
            and event.membership == "invite"
        ):
            inviter = event.sender
            direct = bool(event.content.get("is_direct"))
        source = getattr(event, "source", None)
        if isinstance(source, dict) and source.get("type") == "m.room.canonical_alias":
            content = source.get("content") or {}
            alias = content.get("alias")
            if isinstance(alias, str):
                aliases.append(alias)
            alt = content.get("alt_aliases")
            if isinstance(alt, list):
                aliases += [a for a in alt if isinstance(a, str)]
    return Invitation(room_id, inviter, direct, tuple(aliases))


def may_stay(
    room_id: str, member_count: int, allow: AllowList, aliases: Iterable[str] = (), inviter: str | None = None
) -> bool:
    """At the bot's own join: a direct chat has at most the bot and one person (joined or invited)."""
    return member_count <= 2 or allow.allows(room_id, aliases, inviter)
