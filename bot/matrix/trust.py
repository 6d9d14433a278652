"""Which devices get the room keys: trust on first use that means *first*, and changed keys reported.

`MATRIX_TRUST=tofu`: the devices the bot finds for a person the first time it sees that person are
trusted (verified in nio's store). A device the person adds later is NOT trusted automatically: it
is blacklisted (nio never shares room keys with it), logged without any message content, and the
person is told once in a direct chat. A known device whose Ed25519 key changes (nio keeps the old
key and only logs) is blacklisted and reported the same way — in every mode, because a changed
identity key never happens by itself.

Why nio's crypto store suffices (no table of our own): the store already persists every device of
every tracked user with its keys and its trust flag (verified / blacklisted / ignored, including
deleted devices). "Seen before" is simply "the person has a device with a trust decision", and
"already told" is "that device is blacklisted" — both survive a restart in the same file as the
bot's own keys, and both belong to that crypto identity: if the store is lost the bot is a new
device that Element users see as new anyway, and it starts over with a first contact. A copy in
our database would duplicate people's device keys as personal data that deletion and export
would have to cover, and could drift out of step with the store nio actually encrypts with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from nio import AsyncClient, KeysQueryResponse
from nio.crypto import OlmDevice

log = logging.getLogger(__name__)

Mode = Literal["tofu", "all", "none"]
Kind = Literal["new_device", "changed_key"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A device the bot refuses to share keys with, to be explained once to its owner."""

    user_id: str
    device_id: str
    kind: Kind


def _decided(device: OlmDevice) -> bool:
    return bool(device.verified or device.blacklisted or device.ignored)


class DeviceTrust:
    """Shared by the runtime and the sender; findings queue up until the runtime tells the people."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.pending: list[Finding] = []

    async def query_keys(self, client: AsyncClient) -> None:
        """`keys_query` plus what nio does not do: notice a known device whose signing key changed."""
        resp = await client.keys_query()
        if isinstance(resp, KeysQueryResponse):
            self.check_changed_keys(client, resp.device_keys)

    def check_changed_keys(self, client: AsyncClient, device_keys: dict[str, Any]) -> list[Finding]:
        found: list[Finding] = []
        for user_id, devices in device_keys.items():
            known = client.device_store[user_id]
            for device_id, payload in (devices or {}).items():
                device = known.get(device_id)
                if device is None or device.blacklisted:
                    continue
                keys = payload.get("keys", {}) if isinstance(payload, dict) else {}
                signing_key = keys.get(f"ed25519:{device_id}")
                if signing_key and signing_key != device.ed25519:
                    log.warning(
                        "Matrix: Schlüssel von Gerät %s (%s) hat sich geändert – Gerät wird nicht beliefert",
                        device_id,
                        user_id,
                    )
                    client.blacklist_device(device)
                    found.append(Finding(user_id, device_id, "changed_key"))
        self.pending.extend(found)
        return found

    def apply(self, client: AsyncClient, user_ids: Iterable[str]) -> list[Finding]:
        """Decides the devices without a decision yet; returns (and queues) the refused new ones."""
        if client.olm is None or self.mode != "tofu":
            return []
        found: list[Finding] = []
        for user_id in user_ids:
            first_contact = not any(_decided(d) for d in client.device_store[user_id].values())
            for device in list(client.device_store.active_user_devices(user_id)):
                if user_id == client.user_id and device.id == client.device_id:
                    continue
                if _decided(device):
                    continue
                if first_contact:
                    client.verify_device(device)
                    continue
                log.warning(
                    "Matrix: neues Gerät %s von %s nicht automatisch vertraut (kein Raumschlüssel)",
                    device.id,
                    user_id,
                )
                client.blacklist_device(device)
                found.append(Finding(user_id, device.id, "new_device"))
        self.pending.extend(found)
        return found

    def take_pending(self) -> list[Finding]:
        out, self.pending = self.pending, []
        return out
