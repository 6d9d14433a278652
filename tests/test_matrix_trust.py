"""Device trust and invitation rules of the Matrix transport, without a homeserver.

The Synapse tests cover what a normal client can produce; a known device that suddenly presents
another signing key (what a forged or hijacked device would do) is checked here against nio's
own device store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from nio import InviteAliasEvent, InviteMemberEvent
from nio.crypto import DeviceStore, OlmDevice, TrustState

from bot.matrix.invites import AllowList, Invitation, may_stay, read_invitation
from bot.matrix.runtime import BoundedSet
from bot.matrix.trust import DeviceTrust, Finding

ANN = "@ann:example.org"
BOT = "@lotse:example.org"


@dataclass
class FakeClient:
    """The few parts of nio's AsyncClient the trust policy uses, over nio's real DeviceStore."""

    user_id: str = "@lotse:example.org"
    device_id: str = "BOT"
    olm: object = True
    device_store: DeviceStore = field(default_factory=DeviceStore)

    def verify_device(self, device: OlmDevice) -> None:
        device.trust_state = TrustState.verified

    def blacklist_device(self, device: OlmDevice) -> None:
        device.trust_state = TrustState.blacklisted


def fake() -> Any:
    return FakeClient()


def add(client: Any, device_id: str, ed25519: str = "ed-key") -> OlmDevice:
    device = OlmDevice(ANN, device_id, {"ed25519": ed25519, "curve25519": f"curve-{device_id}"})
    client.device_store.add(device)
    return device


def test_tofu_trusts_the_devices_of_the_first_contact_and_refuses_a_later_one() -> None:
    client, trust = fake(), DeviceTrust("tofu")
    phone, laptop = add(client, "PHONE"), add(client, "LAPTOP")
    assert trust.apply(client, [ANN]) == []
    assert phone.verified and laptop.verified

    later = add(client, "NEW")
    assert trust.apply(client, [ANN]) == [Finding(ANN, "NEW", "new_device")]
    assert later.blacklisted and not later.verified
    assert trust.apply(client, [ANN]) == []  # told once
    assert trust.take_pending() == [Finding(ANN, "NEW", "new_device")]
    assert trust.take_pending() == []


def test_a_person_whose_devices_were_all_deleted_is_still_known() -> None:
    client, trust = fake(), DeviceTrust("tofu")
    old = add(client, "OLD")
    trust.apply(client, [ANN])
    old.deleted = True
    replacement = add(client, "REPLACEMENT")
    assert trust.apply(client, [ANN]) == [Finding(ANN, "REPLACEMENT", "new_device")]
    assert replacement.blacklisted


@pytest.mark.parametrize("mode", ["all", "none"])
def test_other_modes_decide_nothing_on_their_own(mode: Any) -> None:
    client, trust = fake(), DeviceTrust(mode)
    device = add(client, "PHONE")
    assert trust.apply(client, [ANN]) == []
    assert not device.verified and not device.blacklisted


@pytest.mark.parametrize("mode", ["tofu", "all", "none"])
def test_a_changed_signing_key_of_a_known_device_is_reported_once_and_refused(mode: Any) -> None:
    client, trust = fake(), DeviceTrust(mode)
    device = add(client, "PHONE", ed25519="original")
    client.verify_device(device)
    query = {ANN: {"PHONE": {"keys": {"ed25519:PHONE": "forged", "curve25519:PHONE": "c"}}}}
    assert trust.check_changed_keys(client, query) == [Finding(ANN, "PHONE", "changed_key")]
    assert device.blacklisted and device.ed25519 == "original"
    assert trust.check_changed_keys(client, query) == []
    same = {ANN: {"PHONE": {"keys": {"ed25519:PHONE": "original"}}}}
    assert trust.check_changed_keys(fake(), same) == []


def test_allow_list_accepts_ids_aliases_and_servers_and_rejects_typos() -> None:
    allow = AllowList.parse(" !team:example.org, #Beratung:example.org , :partner.de ")
    assert allow.allows("!team:example.org")
    assert allow.allows("!other:example.org", aliases=["#beratung:example.org"])
    assert allow.allows("!x:partner.de")
    assert allow.allows("!x:elsewhere.org", inviter="@ann:partner.de")
    assert not allow.allows("!x:example.org", inviter="@eve:example.org")
    assert not AllowList.parse("").allows("!team:example.org")
    for typo in ("team", "example.org", "!nohost", "#", ": spaced.org"):
        with pytest.raises(ValueError, match="MATRIX_ALLOW_ROOMS"):
            AllowList.parse(typo)


def test_a_direct_chat_with_others_in_it_may_stay_only_when_listed() -> None:
    allow = AllowList.parse("#beratung:example.org")
    assert may_stay("!dm:x.org", 2, allow)
    assert not may_stay("!dm:x.org", 3, allow)  # "direct" said the inviter, but others are in it
    assert may_stay("!dm:x.org", 3, allow, aliases=["#Beratung:example.org"])


def test_an_invitation_says_who_invited_whether_direct_and_the_aliases() -> None:
    member = InviteMemberEvent.from_dict(
        {
            "type": "m.room.member",
            "sender": ANN,
            "state_key": BOT,
            "content": {"membership": "invite", "is_direct": True},
        }
    )
    alias = InviteAliasEvent.from_dict(
        {
            "type": "m.room.canonical_alias",
            "sender": ANN,
            "state_key": "",
            "content": {"alias": "#a:x.org", "alt_aliases": ["#b:x.org"]},
        }
    )
    got = read_invitation("!r:x.org", [member, alias], BOT)
    assert got == Invitation("!r:x.org", ANN, True, ("#a:x.org", "#b:x.org"))
    assert read_invitation("!r:x.org", [alias], BOT).direct is False


def test_notice_memory_is_bounded_and_forgets_the_oldest() -> None:
    told = BoundedSet(3)
    for key in ("a", "b", "c"):
        told.add(key)
    told.add("a")  # used again: now the newest
    told.add("d")
    assert len(told) == 3 and "b" not in told
    assert "a" in told and "c" in told and "d" in told
