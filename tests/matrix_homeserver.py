"""A real Synapse homeserver for the Matrix tests: started once per test session, loopback only.

Synapse lives in its own virtualenv (`make synapse` builds `.synapse-venv`), so it never becomes a
runtime dependency of the bot. Tests find its interpreter through `SYNAPSE_PYTHON` or the default
path; without it the Matrix tests skip on a developer machine and FAIL in CI (CI=true).

Every `rc_*` rate limit is raised: Synapse's defaults make nio sleep and retry on 429, so a test
would hang instead of failing. Users are registered through the shared-secret admin API.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
WAIT = 20.0  # seconds: the longest any test waits for one reply
START_TIMEOUT = 60.0  # seconds; a fresh Synapse answers after about 1 s, a cold disk needs more

_HIGH = {"per_second": 10_000, "burst_count": 100_000}
RATE_LIMITS: dict[str, object] = {
    "rc_message": _HIGH,
    "rc_registration": _HIGH,
    "rc_registration_token_validity": _HIGH,
    "rc_login": {"address": _HIGH, "account": _HIGH, "failed_attempts": _HIGH},
    "rc_admin_redaction": _HIGH,
    "rc_joins": {"local": _HIGH, "remote": _HIGH},
    "rc_joins_per_room": _HIGH,
    "rc_key_requests": _HIGH,
    "rc_3pid_validation": _HIGH,
    "rc_invites": {"per_room": _HIGH, "per_user": _HIGH, "per_issuer": _HIGH},
    "rc_third_party_invite": _HIGH,
    "rc_media_create": _HIGH,
    "rc_presence": {"per_user": _HIGH},
    "rc_delayed_event_mgmt": _HIGH,
    "rc_room_creation": _HIGH,
    "rc_reports": _HIGH,
    "rc_user_directory": _HIGH,
    "rc_profile": _HIGH,
    "rc_federation": {
        "window_size": 1000,
        "sleep_limit": 10_000,
        "sleep_delay": 1,
        "reject_limit": 10_000,
        "concurrent": 100,
    },
}


def synapse_python() -> Path:
    return Path(os.environ.get("SYNAPSE_PYTHON") or ROOT / ".synapse-venv" / "bin" / "python")


def synapse_available() -> bool:
    python = synapse_python()
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import synapse.app.homeserver"], capture_output=True, timeout=60, check=False
    )
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process in a temporary directory; `url` is http://127.0.0.1:<port>."""

    def __init__(self, workdir: Path, python: Path) -> None:
        self.workdir = workdir
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_name = "bildungslotse.test"
        self.shared_secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._admin: Account | None = None

    # --- lifecycle -------------------------------------------------------------------
    def write_config(self) -> Path:
        w = self.workdir
        (w / "media").mkdir(parents=True, exist_ok=True)
        log_config = w / "log.yaml"
        log_config.write_text(
            yaml.safe_dump(
                {
                    "version": 1,
                    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "filename": str(w / "homeserver.log"),
                            "formatter": "plain",
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                }
            )
        )
        config = {
            "server_name": self.server_name,
            "report_stats": False,
            "pid_file": str(w / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(w / "homeserver.db")}},
            "log_config": str(log_config),
            "media_store_path": str(w / "media"),
            "signing_key_path": str(w / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "enable_registration": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "bcrypt_rounds": 4,
            "url_preview_enabled": False,
            "enable_metrics": False,
            "federation_domain_whitelist": [],
            **RATE_LIMITS,
        }
        path = w / "homeserver.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self) -> None:
        config = self.write_config()
        base = [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)]
        subprocess.run(
            [*base, "--generate-keys"], cwd=self.workdir, capture_output=True, timeout=120, check=True
        )
        log = (self.workdir / "stdout.log").open("wb")
        self.process = subprocess.Popen(base, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start-up:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/_matrix/client/versions", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.workdir / name
            if path.exists():
                out += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out)

    # --- accounts --------------------------------------------------------------------
    def register(self, localpart: str | None = None, admin: bool = False) -> Account:
        """Shared-secret registration (the HMAC protocol of `register_new_matrix_user`)."""
        localpart = localpart or f"u{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(12)
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=10).json()["nonce"]
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": _mac(self.shared_secret, nonce, localpart, password, admin),
        }
        resp = httpx.post(endpoint, json=body, timeout=30)
        resp.raise_for_status()
        data = resp.json()
        return Account(data["user_id"], password, data["access_token"], data["device_id"])

    def login(self, account: Account) -> Account:
        """The same person signs in once more: a new device (session) of the same account."""
        resp = httpx.post(
            f"{self.url}/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": account.user_id},
                "password": account.password,
            },
            timeout=30,
        )
        resp.raise_for_status()
        data = resp.json()
        return Account(account.user_id, account.password, data["access_token"], data["device_id"])

    @property
    def admin(self) -> Account:
        if self._admin is None:
            self._admin = self.register(f"admin{uuid.uuid4().hex[:6]}", admin=True)
        return self._admin

    def override_ratelimit(self, user_id: str, messages_per_second: int, burst_count: int) -> None:
        """The admin API an operator uses to lift (0/0) or tighten one account's message limit (ints only)."""
        resp = httpx.post(
            f"{self.url}/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            json={"messages_per_second": messages_per_second, "burst_count": burst_count},
            headers={"Authorization": f"Bearer {self.admin.access_token}"},
            timeout=10,
        )
        resp.raise_for_status()


def _mac(secret: str, nonce: str, user: str, password: str, admin: bool) -> str:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(nonce.encode())
    mac.update(b"\x00")
    mac.update(user.encode())
    mac.update(b"\x00")
    mac.update(password.encode())
    mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


class Person:
    """The human side of a test, driven with matrix-nio: creates rooms, writes, reacts, reads replies.

    A background task syncs and queues every timeline event from others; each wait is bounded.
    With `store_dir` the client has its own crypto store and trusts the bot's devices explicitly.
    """

    def __init__(self, server: Synapse, account: Account, store_dir: Path | None = None) -> None:
        from nio import AsyncClient, AsyncClientConfig
        from nio.store import SqliteStore

        self.account = account
        self.user_id = account.user_id
        config = AsyncClientConfig(
            encryption_enabled=store_dir is not None,
            store=SqliteStore,
            store_sync_tokens=False,
            max_limit_exceeded=0,
            max_timeouts=2,
            request_timeout=20,
        )
        if store_dir is not None:
            store_dir.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            server.url, account.user_id, account.device_id, str(store_dir or ""), config=config
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._next_batch: str | None = None

    async def start(self) -> None:
        await self._keys()
        await self._sync(0)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def _loop(self) -> None:
        while True:
            await self._sync(500)

    async def _sync(self, timeout_ms: int) -> None:
        from nio import SyncResponse

        resp = await self.client.sync(
            timeout=timeout_ms,
            since=self._next_batch,
            full_state=self._next_batch is None,
            sync_filter={"room": {"timeline": {"limit": 100}}},
        )
        if not isinstance(resp, SyncResponse):
            await asyncio.sleep(0.2)
            return
        first = self._next_batch is None
        self._next_batch = resp.next_batch
        await self._keys()
        if first:
            return
        for room_id, info in resp.rooms.join.items():
            for event in info.timeline.events:
                if getattr(event, "sender", None) != self.user_id:
                    self.inbox.put_nowait((room_id, event))

    async def _keys(self) -> None:
        c = self.client
        if c.olm is None:
            return
        if c.outgoing_to_device_messages:
            await c.send_to_device_messages()
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())

    # --- actions -----------------------------------------------------------------------
    async def create_room(
        self, invite: list[str], encrypted: bool = False, direct: bool = True, alias: str | None = None
    ) -> str:
        from nio import RoomCreateResponse

        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(
            invite=invite, is_direct=direct, initial_state=initial_state, alias=alias
        )
        assert isinstance(resp, RoomCreateResponse), resp
        return resp.room_id

    async def trust(self, user_id: str) -> None:
        """The person verifies every device of `user_id` (as a careful Element user would)."""
        if self.client.olm is None:
            return
        await self._keys()
        for device in self.client.device_store.active_user_devices(user_id):
            if not device.verified:
                self.client.verify_device(device)

    async def say(self, room_id: str, text: str, content: dict[str, Any] | None = None) -> str:
        return await self.send(room_id, "m.room.message", content or {"msgtype": "m.text", "body": text})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self.send(room_id, "m.reaction", content)

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        from nio import RoomSendResponse

        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted:
            if not room.members_synced:
                await self.client.joined_members(room_id)
            for user_id in list(room.users):
                await self.trust(user_id)
        resp = await self.client.room_send(room_id, event_type, content)
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    async def leave(self, room_id: str) -> None:
        await self.client.room_leave(room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        from nio import RoomInviteResponse

        resp = await self.client.room_invite(room_id, user_id)
        assert isinstance(resp, RoomInviteResponse), resp

    async def kick(self, room_id: str, user_id: str) -> None:
        from nio import RoomKickResponse

        resp = await self.client.room_kick(room_id, user_id)
        assert isinstance(resp, RoomKickResponse), resp

    # --- waiting -----------------------------------------------------------------------
    async def next_event(self, room_id: str, kinds: tuple[type, ...], timeout: float = WAIT) -> Any:
        """The next event of one of `kinds` from someone else in the room (others are skipped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"nothing of {kinds} arrived in {room_id} within {timeout:.0f} s")
            try:
                got_room, event = await asyncio.wait_for(self.inbox.get(), left)
            except TimeoutError:
                continue
            if got_room == room_id and isinstance(event, kinds):
                return event

    async def next_message(self, room_id: str, timeout: float = WAIT) -> Any:
        from nio import RoomMessageText

        return await self.next_event(room_id, (RoomMessageText,), timeout)

    async def wait_member(
        self, room_id: str, user_id: str, membership: str = "join", timeout: float = WAIT
    ) -> None:
        from nio import RoomMemberEvent

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            room = self.client.rooms.get(room_id)
            if (
                membership == "join"
                and room is not None
                and user_id in room.users
                and user_id not in room.invited_users
            ):
                return
            left = deadline - asyncio.get_running_loop().time()
            event = await self.next_event(room_id, (RoomMemberEvent,), max(left, 0.01))
            if event.state_key == user_id and event.membership == membership:
                return

    def drain(self) -> list[tuple[str, Any]]:
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get_nowait())
        return out


_SERVER: Synapse | None = None


def shared_synapse(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Synapse:
    """One server for the whole session, however many test modules ask for it."""
    global _SERVER
    if _SERVER is not None:
        return _SERVER
    python = synapse_python()
    if not synapse_available():
        message = f"Synapse not installed at {python} (run `make synapse` or set SYNAPSE_PYTHON)"
        if IN_CI:
            pytest.fail(f"Matrix tests are required in CI: {message}")
        pytest.skip(message)
    server = Synapse(tmp_path_factory.mktemp("synapse"), python)
    server.start()
    _SERVER = server

    def _stop() -> None:
        global _SERVER
        server.stop()
        _SERVER = None

    config.add_cleanup(_stop)
    return server


@pytest.fixture(scope="session")
def synapse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    yield shared_synapse(request.config, tmp_path_factory)


if __name__ == "__main__":  # manual smoke run: python tests/matrix_homeserver.py
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        s = Synapse(Path(tmp), synapse_python())
        t0 = time.monotonic()
        s.start()
        print(f"started in {time.monotonic() - t0:.1f}s at {s.url}", file=sys.stderr)
        print(s.register(), file=sys.stderr)
        s.stop()
