"""Builds the logged-in matrix-nio client: password or access token, same device after every restart.

The device id is kept in the database and the crypto store (nio's SqliteStore) under
MATRIX_STORE_PATH, so a restart keeps the encryption sessions. Without the e2e extra
(vodozemac) the bot still serves unencrypted rooms and says so once in the log.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import sqlalchemy as sa
from nio import AsyncClient, AsyncClientConfig, LoginError, WhoamiError
from nio.crypto import ENCRYPTION_ENABLED
from nio.store import SqliteStore

from bot.matrix import state
from bot.settings import Settings

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 45.0  # seconds; long-poll syncs add their own timeout on top


class MatrixStartupError(Exception):
    """The Matrix transport cannot start; one line for the operator, no secrets in it."""


def e2e_available() -> bool:
    return bool(ENCRYPTION_ENABLED)


def store_file(store_dir: Path, user_id: str, device_id: str) -> Path:
    return store_dir / f"{user_id}_{device_id}.db"  # nio's SqliteStore default name


def client_config(e2e: bool) -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=e2e,
        store=SqliteStore,
        store_sync_tokens=False,  # the database keeps the sync token (works without e2e too)
        max_limit_exceeded=0,  # a 429 comes back to us (outbox RETRY) instead of nio sleeping
        max_timeouts=2,
        request_timeout=REQUEST_TIMEOUT,
    )


async def connect(settings: Settings, engine: sa.Engine) -> AsyncClient:
    homeserver, user_id = settings.matrix_homeserver, settings.matrix_user_id
    if not homeserver or not user_id:
        raise MatrixStartupError("MATRIX_HOMESERVER und MATRIX_USER_ID müssen gesetzt sein.")
    store_dir = Path(settings.matrix_store_path)
    store_dir.mkdir(parents=True, exist_ok=True)
    store_dir.chmod(0o700)  # the crypto store holds the bot's private keys
    e2e = e2e_available()
    if not e2e:
        log.warning(
            "Matrix: Verschlüsselte Räume werden auf diesem Rechner NICHT unterstützt "
            "(matrix-nio[e2e] / vodozemac fehlt); der Bot antwortet nur in unverschlüsselten Räumen."
        )
    account = await asyncio.to_thread(state.load_account, engine, user_id)
    device_id = account.device_id
    if device_id and e2e and not store_file(store_dir, user_id, device_id).exists():
        log.warning("Matrix: Krypto-Speicher für Gerät %s fehlt; melde ein neues Gerät an.", device_id)
        device_id = None
    client = AsyncClient(
        homeserver, user_id, device_id=device_id or "", store_path=str(store_dir), config=client_config(e2e)
    )
    try:
        if settings.matrix_access_token is not None and settings.matrix_access_token.get_secret_value():
            await _restore(client, user_id, settings.matrix_access_token.get_secret_value(), device_id)
        elif settings.matrix_password is not None and settings.matrix_password.get_secret_value():
            resp = await client.login(
                settings.matrix_password.get_secret_value(), settings.matrix_device_name
            )
            if isinstance(resp, LoginError):
                raise MatrixStartupError(f"Matrix-Anmeldung als {user_id} fehlgeschlagen: {resp.status_code}")
        else:
            raise MatrixStartupError("MATRIX_PASSWORD oder MATRIX_ACCESS_TOKEN muss gesetzt sein.")
    except MatrixStartupError:
        await client.close()
        raise
    except Exception as exc:
        await client.close()
        raise MatrixStartupError(
            f"Matrix-Server {homeserver} nicht erreichbar: {type(exc).__name__}"
        ) from None
    await asyncio.to_thread(state.save_device, engine, user_id, client.device_id)
    log.info("Matrix: angemeldet als %s (Gerät %s, Verschlüsselung %s)", user_id, client.device_id, e2e)
    return client


async def _restore(client: AsyncClient, user_id: str, token: str, device_id: str | None) -> None:
    client.access_token = token
    who = await client.whoami()
    if isinstance(who, WhoamiError):
        raise MatrixStartupError(f"MATRIX_ACCESS_TOKEN wird vom Server abgelehnt: {who.status_code}")
    if who.user_id != user_id:
        raise MatrixStartupError(
            f"MATRIX_ACCESS_TOKEN gehört zu {who.user_id}, nicht zu MATRIX_USER_ID {user_id}."
        )
    device = who.device_id or device_id
    if not device:
        raise MatrixStartupError(
            "Zum MATRIX_ACCESS_TOKEN nennt der Server kein Gerät; bitte MATRIX_PASSWORD nutzen."
        )
    client.restore_login(user_id, device, token)
