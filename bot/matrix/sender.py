"""Sends replies into a Matrix room: rate-limited, encrypted where the room is, errors as DeliveryResult.

Used for both the live dialog and the reminder outbox. The external id is the room id. A
`M_LIMIT_EXCEEDED` answer pauses the whole account until `retry_after_ms` has passed (Synapse
limits per sending account) and comes back as RETRY; a room the bot may not write to (left,
kicked, unknown) as BLOCKED.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from aiohttp import ClientError
from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError, SendRetryError

from bot.matrix import SPEC, state
from bot.matrix.render import Outgoing, file_content, render
from bot.matrix.sharing import SHARED_ROOM, is_one_to_one
from bot.matrix.trust import DeviceTrust, Mode
from bot.outbound import DeliveryResult, DeliveryStatus
from bot.ratelimit import RateLimiter
from handlers.turn import Attachment, Reply

log = logging.getLogger(__name__)
TRANSPORT = SPEC.name
DEFAULT_RETRY_AFTER = 5.0
BLOCKING_ERRORS = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_ROOM"})
TEMPORARY_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_UNKNOWN"})


def classify(resp: ErrorResponse) -> DeliveryResult:
    code = resp.status_code or ""
    if code == "M_LIMIT_EXCEEDED" or code == "429":
        seconds = (resp.retry_after_ms or DEFAULT_RETRY_AFTER * 1000) / 1000
        return DeliveryResult(DeliveryStatus.RETRY, retry_after=seconds, detail="M_LIMIT_EXCEEDED")
    if code in BLOCKING_ERRORS:
        return DeliveryResult(DeliveryStatus.BLOCKED, detail=code)
    if code in TEMPORARY_ERRORS or not code:
        return DeliveryResult(DeliveryStatus.RETRY, retry_after=30.0, detail=code or "unknown error")
    return DeliveryResult(DeliveryStatus.FAILED, detail=code)


class MatrixSender:
    """One per bot account. `client` is attached once the runtime has logged in."""

    transport = TRANSPORT

    def __init__(
        self,
        engine: sa.Engine,
        account: str,
        limiter: RateLimiter,
        trust: Mode = "tofu",
        clock: Callable[[], float] = time.monotonic,
        devices: DeviceTrust | None = None,
    ) -> None:
        self.engine = engine
        self.account = account
        self.limiter = limiter
        self.trust = trust
        self.devices = devices or DeviceTrust(trust)
        self.clock = clock
        self.client: AsyncClient | None = None
        self._paused_until = 0.0

    # --- the Sender protocol ----------------------------------------------------------
    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        """The outbox's way in. A personal message (a reminder of a subscription made in a direct
        chat) goes only into a room of the bot and one person, checked now, at send time: the
        runtime pauses such subscriptions when a room gets more members (bot/matrix/sharing.py),
        and this is the safety net for whatever it has not seen yet (a sync still to come, a
        membership change while the bot was down)."""
        if personal:
            room = self.client.rooms.get(external_id) if self.client is not None else None
            if room is not None and not is_one_to_one(room):
                return DeliveryResult(DeliveryStatus.SKIPPED, detail=SHARED_ROOM)
        return await self._send(external_id, replies, plain_ok=False)

    async def deliver(
        self, room_id: str, replies: Sequence[Reply], attempts: int = 3, plain_ok: bool = False
    ) -> DeliveryResult:
        """For live answers: waits out a rate limit (bounded) instead of handing it to the outbox.

        `plain_ok` lets the one notice "encrypted rooms are not supported here" go out unencrypted.
        """
        result = DeliveryResult(DeliveryStatus.FAILED, detail="no attempt")
        for _ in range(attempts):
            result = await self._send(room_id, replies, plain_ok)
            if result.status is not DeliveryStatus.RETRY:
                break
            await asyncio.sleep(min(result.retry_after or DEFAULT_RETRY_AFTER, 30.0))
        if result.status is not DeliveryStatus.SENT:
            log.warning("Matrix: Antwort nicht zugestellt (%s: %s)", result.status, result.detail)
        return result

    async def _send(self, external_id: str, replies: Sequence[Reply], plain_ok: bool) -> DeliveryResult:
        client = self.client
        if client is None or not client.logged_in:
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=30.0, detail="matrix not connected")
        wait = self._paused_until - self.clock()
        if wait > 0:
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=wait, detail="M_LIMIT_EXCEEDED (paused)")
        room = client.rooms.get(external_id)
        if room is None:
            return DeliveryResult(DeliveryStatus.BLOCKED, detail="bot is not in this room")
        if room.encrypted and client.olm is None and not plain_ok:
            # never put a conversation in clear text into a room its members chose to encrypt
            return DeliveryResult(DeliveryStatus.FAILED, detail="encrypted room, e2e unavailable here")
        lang = await asyncio.to_thread(state.user_language, self.engine, external_id)
        out = render(replies, lang)
        if out.options:
            await asyncio.to_thread(state.remember_options, self.engine, external_id, out.options)
        return await self._send_rendered(client, external_id, out)

    # --- internals --------------------------------------------------------------------
    async def _send_rendered(self, client: AsyncClient, room_id: str, out: Outgoing) -> DeliveryResult:
        event_ids: list[str] = []
        for content in out.contents:
            result, event_id = await self._send_event(client, room_id, content)
            if result.status is not DeliveryStatus.SENT:
                return result
            event_ids.append(event_id)
        for attachment in out.attachments:
            result, _ = await self._send_file(client, room_id, attachment)
            if result.status is not DeliveryStatus.SENT:
                return result
        if out.options:
            await asyncio.to_thread(state.remember_option_events, self.engine, room_id, event_ids)
        return DeliveryResult(DeliveryStatus.SENT)

    async def _send_event(
        self, client: AsyncClient, room_id: str, content: dict[str, Any], event_type: str = "m.room.message"
    ) -> tuple[DeliveryResult, str]:
        await self.limiter.acquire(room_id)
        room = client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted and client.olm is not None)
        try:
            if encrypted:
                await self._prepare_encryption(client, room_id)
            try:
                resp = await client.room_send(
                    room_id, event_type, content, ignore_unverified_devices=self.trust == "all"
                )
            except OlmUnverifiedDeviceError:
                if self.trust != "tofu":
                    return DeliveryResult(
                        DeliveryStatus.FAILED, detail="unverified devices (MATRIX_TRUST)"
                    ), ""
                # a device appeared while the keys were shared: decide it (first contact or not), once more
                self.devices.apply(client, _room_users(client, room_id))
                resp = await client.room_send(room_id, event_type, content)
        except OlmUnverifiedDeviceError:
            return DeliveryResult(DeliveryStatus.FAILED, detail="unverified devices"), ""
        except SendRetryError:
            return DeliveryResult(
                DeliveryStatus.RETRY, retry_after=DEFAULT_RETRY_AFTER, detail="room keys"
            ), ""
        except LocalProtocolError as exc:
            return DeliveryResult(DeliveryStatus.BLOCKED, detail=f"not in room ({type(exc).__name__})"), ""
        except (ClientError, TimeoutError) as exc:
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=10.0, detail=type(exc).__name__), ""
        if isinstance(resp, RoomSendResponse):
            return DeliveryResult(DeliveryStatus.SENT), resp.event_id
        result = classify(resp)
        if result.status is DeliveryStatus.RETRY and result.detail == "M_LIMIT_EXCEEDED":
            self._paused_until = max(self._paused_until, self.clock() + (result.retry_after or 0))
        return result, ""

    async def _prepare_encryption(self, client: AsyncClient, room_id: str) -> None:
        """Members and their device keys must be known before the room key is shared."""
        room = client.rooms[room_id]
        if not room.members_synced:
            await client.joined_members(room_id)
        if client.should_query_keys:
            await self.devices.query_keys(client)
        self.devices.apply(client, _room_users(client, room_id))

    async def _send_file(
        self, client: AsyncClient, room_id: str, attachment: Attachment
    ) -> tuple[DeliveryResult, str]:
        room = client.rooms.get(room_id)
        encrypt = bool(room and room.encrypted and client.olm is not None)
        try:
            resp, keys = await client.upload(
                io.BytesIO(attachment.data),
                content_type=attachment.mime_type,
                filename=attachment.filename,
                encrypt=encrypt,
                filesize=len(attachment.data),
            )
        except (ClientError, TimeoutError) as exc:
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=10.0, detail=type(exc).__name__), ""
        if not isinstance(resp, UploadResponse):
            return classify(resp), ""
        encrypted_file = None
        if encrypt and keys:
            encrypted_file = {**keys, "url": resp.content_uri}
        return await self._send_event(
            client, room_id, file_content(attachment, resp.content_uri, encrypted_file)
        )


def _room_users(client: AsyncClient, room_id: str) -> list[str]:
    room = client.rooms.get(room_id)
    return list(room.users) if room else []
