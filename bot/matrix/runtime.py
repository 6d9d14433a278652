"""The running Matrix transport: login, sync loop, invitations, events → dialog turns → replies.

Delivery guarantee: the sync token is stored only after every event of a sync batch was
handled, so a crash re-handles at most one batch and a restart never answers old messages
again. The first start of an account (no token) treats everything already in the rooms as
history. Rooms are handled concurrently, the events of one room in order.

Who the bot talks to is decided here too: invitations only to direct chats and listed rooms
(bot/matrix/invites.py), room keys only for trusted devices (bot/matrix/trust.py), personal
reminders paused where a direct chat got more members (bot/matrix/sharing.py), and a room the
bot is out of is forgotten with its conversation (state.purge_room).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from nio import (
    AsyncClient,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageText,
    RoomMessageUnknown,
    RoomResolveAliasResponse,
    SyncError,
    SyncResponse,
)

from bot.clock import Clock, system_clock
from bot.conversation import ConversationService
from bot.matrix import state
from bot.matrix.client import MatrixStartupError, connect
from bot.matrix.inbound import (
    COMMAND_PREFIX,
    TRANSPORT,
    addressed,
    parse_reaction,
    parse_text,
    strip_reply_fallback,
)
from bot.matrix.invites import AllowList, Invitation, may_stay, read_invitation
from bot.matrix.sender import MatrixSender
from bot.matrix.sharing import is_one_to_one, pause_personal, rooms_with_member_changes
from bot.matrix.trust import DeviceTrust, Finding
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from handlers.catalogue import t
from handlers.turn import Reply, Turn, TurnKind

log = logging.getLogger(__name__)

# the default sync returns only 10 timeline events per room and nio skips the rest silently
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"not_types": ["*"]},
        "state": {"lazy_load_members": False},
    },
}
SYNC_TIMEOUT_MS = 30_000
STOP_GRACE_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 60.0
MAX_NOTICES = 4096  # (room, reason) pairs remembered as "already explained" this run
MAX_INVITATIONS = 1024  # accepted invitations waiting for the bot's own join event


class BoundedSet:
    """A set that forgets its oldest entries beyond `maxsize` (LRU), so no sender can grow it forever."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, item: Hashable) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Hashable) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)


class MatrixRuntime:
    """`start()` logs in and catches up; then a background task syncs until `stop()`."""

    def __init__(
        self,
        settings: Settings,
        service: ConversationService,
        sync_timeout_ms: int = SYNC_TIMEOUT_MS,
        clock: Clock = system_clock,
    ):
        if not settings.matrix_user_id:
            raise ValueError("MATRIX_USER_ID is not set")
        self.settings = settings
        self.service = service
        self.engine = service.engine
        self.account = settings.matrix_user_id
        self.sync_timeout_ms = sync_timeout_ms
        self.clock = clock  # stamps each turn when it arrives: the dialog's "now"
        rate = settings.matrix_send_rate
        limiter = RateLimiter(rate, per_key_rate=rate, burst=max(1.0, 2 * rate), per_key_burst=5.0)
        self.allow = AllowList.parse(settings.matrix_allow_rooms)  # a typo stops the start, loudly
        self.devices = DeviceTrust(settings.matrix_trust)
        self.sender = MatrixSender(
            self.engine, self.account, limiter, trust=settings.matrix_trust, devices=self.devices
        )
        self.client: AsyncClient | None = None
        self._next_batch: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._synced = False  # the last sync with the homeserver succeeded (for /healthz)
        self._waiting = False  # in the long poll or a back-off pause: safe to cancel
        self._told = BoundedSet(MAX_NOTICES)  # (room, reason) already explained once this run
        self._invitations: OrderedDict[str, Invitation] = OrderedDict()  # direct chats, join not yet seen
        self._listed = BoundedSet(MAX_INVITATIONS)  # rooms joined because MATRIX_ALLOW_ROOMS names them

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self.client = await connect(self.settings, self.engine)
        self.sender.client = self.client
        account = await asyncio.to_thread(state.load_account, self.engine, self.account)
        self._next_batch = account.next_batch
        try:
            await self._housekeeping()  # publish the device keys before anyone wants to encrypt
            if not await self._sync_once(timeout_ms=0, full_state=True, catch_up=self._next_batch is None):
                raise MatrixStartupError(
                    f"Erster Abgleich mit {self.settings.matrix_homeserver} fehlgeschlagen."
                )
        except BaseException:
            await self.client.close()
            raise
        self._synced = True
        self._task = asyncio.create_task(self._loop(), name="matrix-sync")

    def connected(self) -> bool:
        return self._synced and self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Lets a batch in progress finish (bounded), so its token is stored and nothing is answered twice."""
        self._stopping = True
        task = self._task
        if task is not None:
            if self._waiting:
                task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            except Exception:
                log.exception("Matrix: sync loop ended with an error")
        if self.client is not None:
            await self.client.close()
        self.sender.client = None

    async def _loop(self) -> None:
        backoff = 1.0
        while not self._stopping:
            try:
                ok = await self._sync_once(timeout_ms=self.sync_timeout_ms)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Matrix: sync failed")
                ok = False
            self._synced = ok
            if ok:
                backoff = 1.0
            elif not self._stopping:
                self._waiting = True
                try:
                    await asyncio.sleep(backoff)
                finally:
                    self._waiting = False
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    # --- one sync --------------------------------------------------------------------
    async def _sync_once(self, timeout_ms: int, full_state: bool = False, catch_up: bool = False) -> bool:
        client = self._client()
        self._waiting = True
        try:
            resp = await client.sync(
                timeout=timeout_ms, sync_filter=SYNC_FILTER, since=self._next_batch, full_state=full_state
            )
        finally:
            self._waiting = False
        if isinstance(resp, SyncError):
            log.warning("Matrix: sync rejected (%s)", resp.status_code)
            if resp.retry_after_ms:
                await asyncio.sleep(resp.retry_after_ms / 1000)
            return False
        if not isinstance(resp, SyncResponse):
            return False
        await self._housekeeping()
        # before the batch's messages: a newcomer's first "!abo" must not find the earlier person's
        await self._pause_shared(set(self._client().rooms) if full_state else rooms_with_member_changes(resp))
        await self._handle(resp, catch_up)
        await self._tell_devices(self.devices.take_pending())
        self._next_batch = resp.next_batch
        await asyncio.to_thread(state.save_sync_token, self.engine, self.account, resp.next_batch)
        return True

    async def _housekeeping(self) -> None:
        """What nio's sync_forever does between syncs: keys up, keys queried/claimed, to-device out."""
        client = self._client()
        if client.olm is None:
            return
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await self.devices.query_keys(client)
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        users = {u for room in client.rooms.values() if room.encrypted for u in room.users}
        self.devices.apply(client, sorted(users))

    async def _handle(self, resp: SyncResponse, catch_up: bool) -> None:
        client = self._client()
        for room_id, invite in resp.rooms.invite.items():
            await self._invitation(read_invitation(room_id, invite.invite_state, self.account))
        for room_id in resp.rooms.leave:
            await self._forget(room_id)
        joined = {room_id: info for room_id, info in resp.rooms.join.items() if room_id in client.rooms}
        if catch_up:
            # first start of this account: whatever is in the rooms already is history
            await asyncio.to_thread(state.mark_joined, self.engine, self.account, list(joined), True)
            return
        results = await asyncio.gather(
            *(self._room_events(room_id, info.timeline.events) for room_id, info in joined.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            if isinstance(result, Exception):
                log.error("Matrix: room batch failed: %s", type(result).__name__)

    async def _invitation(self, invitation: Invitation) -> None:
        room_id = invitation.room_id
        listed = self.allow.allows(room_id, invitation.aliases, invitation.inviter)
        listed = listed or await self._listed_alias(room_id)
        if not (invitation.direct or listed):
            await self._client().room_leave(room_id)  # leaving an invited room declines the invitation
            log.info(
                "Matrix: Einladung in %s abgelehnt (kein Direktchat, nicht in MATRIX_ALLOW_ROOMS)", room_id
            )
            return
        resp = await self._client().join(room_id)
        if not isinstance(resp, JoinResponse):
            log.warning(
                "Matrix: Einladung in %s nicht angenommen (%s)", room_id, getattr(resp, "status_code", "")
            )
            return
        log.info("Matrix: Einladung angenommen (%s)", room_id)
        if listed:
            self._listed.add(room_id)
            return
        self._invitations[room_id] = invitation  # a direct chat: checked again at the bot's own join
        while len(self._invitations) > MAX_INVITATIONS:
            self._invitations.popitem(last=False)

    async def _listed_alias(self, room_id: str) -> bool:
        """A listed alias that is not the room's canonical one: ask the server where it points now."""
        for alias in sorted(self.allow.aliases):
            resp = await self._client().room_resolve_alias(alias)
            if isinstance(resp, RoomResolveAliasResponse) and resp.room_id == room_id:
                return True
        return False

    def _may_stay(self, room: MatrixRoom) -> bool:
        """A 'direct chat' invitation into a room with others is left again unless the room is listed."""
        if room.room_id in self._listed:
            return True
        invitation = self._invitations.pop(room.room_id, None)
        aliases = [a for a in (room.canonical_alias, *(invitation.aliases if invitation else ())) if a]
        inviter = invitation.inviter if invitation else None
        return may_stay(room.room_id, len(room.users), self.allow, aliases, inviter)

    async def _forget(self, room_id: str) -> None:
        """Out of a room (left, declined, kicked, banned): its rows and conversation go (state.purge_room)."""
        self._invitations.pop(room_id, None)
        if await asyncio.to_thread(state.purge_room, self.engine, self.account, room_id):
            log.info("Matrix: Gespräch des verlassenen Raums %s gelöscht", room_id)

    async def _leave(self, room_id: str, why: str) -> None:
        await self._client().room_leave(room_id)
        await self._forget(room_id)
        log.info("Matrix: Raum %s verlassen (%s)", room_id, why)

    async def _room_events(self, room_id: str, events: list[Any]) -> None:
        status = await asyncio.to_thread(state.load_room, self.engine, self.account, room_id)
        ready = status.greeted  # before our own join event the timeline is the room's history
        for event in events:
            try:
                if getattr(event, "sender", None) == self.account:
                    if not ready and _own_join(event, self.account):
                        room = self._client().rooms.get(room_id)
                        if room is not None and not self._may_stay(room):
                            await self._leave(room_id, "kein Direktchat, nicht in MATRIX_ALLOW_ROOMS")
                            return
                        await self._greet(room_id)
                        ready = True
                    continue
                if ready:
                    await self._on_event(room_id, event)
            except Exception:
                log.exception("Matrix: handling a %s failed", type(event).__name__)

    # --- events ----------------------------------------------------------------------
    async def _on_event(self, room_id: str, event: Any) -> None:
        client = self._client()
        room = client.rooms.get(room_id)
        if room is None:
            return
        group = len(room.users) > 2
        at = self.clock()
        turn: Turn | None = None
        if isinstance(event, RoomMessageText | RoomMessageEmote):
            if _is_edit(event.source.get("content", {})):
                return  # a corrected message is not a new answer
            body = strip_reply_fallback(event.body)
            if group:
                said = addressed(
                    event.source.get("content", {}), body, self.account, room.user_name(self.account)
                )
                if not said.yes:
                    return
                body = said.text
            if not body.strip():
                turn = Turn(TRANSPORT, room_id, TurnKind.COMMAND, command="resume", at=at)
            else:
                memory = await asyncio.to_thread(state.load_options, self.engine, room_id)
                turn = parse_text(room_id, body, memory.options, at)
        elif isinstance(event, ReactionEvent):
            memory = await asyncio.to_thread(state.load_options, self.engine, room_id)
            turn = parse_reaction(room_id, event.key, event.reacts_to, memory.options, memory.events, at)
        elif isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location" and not group:
            turn = _location_turn(room_id, event.source.get("content", {}), at)
        elif isinstance(event, RoomMessageMedia | RoomEncryptedMedia | RoomMessageUnknown) and not group:
            turn = Turn(TRANSPORT, room_id, TurnKind.UNSUPPORTED, at=at)
        elif isinstance(event, MegolmEvent):
            await self._undecryptable(room_id, event, group)
        elif isinstance(event, RoomMemberEvent):
            await self._membership(room_id, event)
        if turn is None:
            return
        # the room is the conversation; the person is the sender. Private: the bot and them alone
        private = set(room.users) == {self.account, event.sender}
        turn = replace(turn, sender_id=event.sender, private=private)
        replies = await self.service.handle(turn)
        if replies:
            await self.sender.deliver(room_id, replies)

    async def _greet(self, room_id: str) -> None:
        client = self._client()
        room = client.rooms.get(room_id)
        lang = await asyncio.to_thread(state.user_language, self.engine, room_id)
        plain_ok = False
        if room is not None and room.encrypted and client.olm is None:
            replies = [Reply(t(lang, "matrix.encrypted_unsupported", p=COMMAND_PREFIX))]
            self._told.add((room_id, "unsupported"))
            plain_ok = True
        elif room is not None and len(room.users) > 2:
            name = room.user_name(self.account) or self.account
            replies = [Reply(t(lang, "matrix.group_greeting", p=COMMAND_PREFIX, name=name))]
        else:
            # nobody wrote yet: a turn of nobody in particular, which binds the room to no one
            hello = Turn(
                TRANSPORT, room_id, TurnKind.COMMAND, command="resume", private=False, at=self.clock()
            )
            replies = await self.service.handle(hello)
        await asyncio.to_thread(state.mark_greeted, self.engine, self.account, room_id)
        if replies:
            await self.sender.deliver(room_id, replies, plain_ok=plain_ok)

    async def _undecryptable(self, room_id: str, event: MegolmEvent, group: bool) -> None:
        """Same flood control as text; in a group nobody can tell whether the bot was meant: no notice."""
        client = self._client()
        verdict = self.service.flood.check((TRANSPORT, room_id))
        if verdict == "drop":
            return
        lang = await asyncio.to_thread(state.user_language, self.engine, room_id)
        if verdict == "warn":
            if not group:
                await self.sender.deliver(room_id, [Reply(t(lang, "flood"))], plain_ok=client.olm is None)
            return
        if client.olm is None:
            if not group and (room_id, "unsupported") not in self._told:
                self._told.add((room_id, "unsupported"))
                notice = [Reply(t(lang, "matrix.encrypted_unsupported", p=COMMAND_PREFIX))]
                await self.sender.deliver(room_id, notice, plain_ok=True)
            return
        log.warning("Matrix: undecryptable message in %s (session %s)", room_id, event.session_id)
        if (room_id, event.session_id) in self._told:
            return
        self._told.add((room_id, event.session_id))
        with contextlib.suppress(Exception):
            await client.request_room_key(event)
        if not group:
            await self.sender.deliver(room_id, [Reply(t(lang, "matrix.undecryptable", p=COMMAND_PREFIX))])

    async def _tell_devices(self, findings: list[Finding]) -> None:
        """Each refused device is explained once to its owner, in their direct chats with the bot."""
        client = self._client()
        for finding in findings:
            if finding.user_id == self.account:
                continue
            key = "matrix.new_device" if finding.kind == "new_device" else "matrix.changed_key"
            for room_id, room in list(client.rooms.items()):
                if finding.user_id not in room.users or len(room.users) > 2:
                    continue
                lang = await asyncio.to_thread(state.user_language, self.engine, room_id)
                await self.sender.deliver(room_id, [Reply(t(lang, key, device=finding.device_id))])

    async def _pause_shared(self, room_ids: set[str]) -> None:
        """Where a direct chat got more members, its personal reminders pause and the room is told
        once, without a word of what was subscribed (bot/matrix/sharing.py)."""
        client = self._client()
        for room_id in sorted(room_ids):
            room = client.rooms.get(room_id)
            if room is None or is_one_to_one(room):
                continue
            lang = await asyncio.to_thread(pause_personal, self.engine, room_id, self.clock())
            if lang is None:
                continue
            log.info("Matrix: Raum %s ist kein Direktchat mehr – persönliche Erinnerungen pausiert", room_id)
            await self.sender.deliver(room_id, [Reply(t(lang, "matrix.reminders_paused", p=COMMAND_PREFIX))])

    async def _membership(self, room_id: str, event: RoomMemberEvent) -> None:
        """The person left the direct chat: leave too and send nothing more (reminders stop)."""
        if event.state_key == self.account or event.membership not in ("leave", "ban"):
            return
        room = self._client().rooms.get(room_id)
        if room is not None and set(room.users) - {self.account}:
            return
        await self._leave(room_id, "niemand mehr da")

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise RuntimeError("Matrix runtime not started")
        return self.client


def _is_edit(content: dict[str, Any]) -> bool:
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def _own_join(event: Any, account: str) -> bool:
    return isinstance(event, RoomMemberEvent) and event.state_key == account and event.membership == "join"


def _location_turn(room_id: str, content: dict[str, Any], at: dt.datetime) -> Turn | None:
    """m.location carries 'geo:53.25,10.41' (optionally ';u=…'): a shared position like Telegram's."""
    uri = str(content.get("geo_uri", ""))
    if not uri.startswith("geo:"):
        return None
    try:
        lat_s, lon_s = uri[4:].split(";")[0].split(",")[:2]
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Turn(TRANSPORT, room_id, TurnKind.LOCATION, lat=lat, lon=lon, at=at)
