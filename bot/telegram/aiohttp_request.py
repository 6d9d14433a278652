"""The Bot API client on aiohttp instead of PTB's default httpx.

Why: under many users at once, httpx's connection pool (httpcore 1.0) costs time that grows with
the square of its open connections — it recounts every connection for every connection on every
request — and after a burst of concurrent replies the pool stays large for seconds. In the dialog
benchmark that made some rounds cost twice as much CPU per update (docs/benchmarks.md). aiohttp's
pool keeps idle connections in per-host queues; the request path is also shorter. python-telegram-bot
supports this by design: `BaseRequest` is its documented extension point, and the PTB maintainers'
own ptbcontrib offers an aiohttp request class (not on PyPI, hence this one).

PTB's contract kept here: form-encoded parameters (JSON-encoded values) or multipart when files are
sent, PTB's User-Agent, `TimedOut` for timeouts and `NetworkError` for every other transport failure,
and PTB's timeout defaults (5 s each, `None` = wait forever). aiohttp has no separate write timeout:
a slow upload is bounded by the read timeout plus the media write timeout.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 5.0  # PTB's HTTPXRequest default for connect, read, write and pool
MEDIA_WRITE_TIMEOUT = 20.0  # PTB's default for uploads
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session per request object; PTB calls `initialize`/`shutdown` around its use."""

    __slots__ = ("_connection_pool_size", "_session", "_timeouts")

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        write_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self._connection_pool_size = connection_pool_size
        self._timeouts = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": write_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connection_pool_size, limit_per_host=0)
            # trust_env: HTTP(S)_PROXY / NO_PROXY as with PTB's httpx default (an office network's proxy)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, trust_env=True
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, name: str, value: ODVInput[float]) -> float | None:
        return self._timeouts[name] if isinstance(value, DefaultValue) else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        data: Any = None
        headers: dict[str, str] | None = None
        read = self._timeout("read", read_timeout)
        if request_data is not None and request_data.contains_files:
            data = aiohttp.FormData(request_data.json_parameters)
            for name, part in request_data.multipart_data.items():
                filename, content, *rest = part
                data.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
            written = MEDIA_WRITE_TIMEOUT if isinstance(write_timeout, DefaultValue) else write_timeout
            read = None if read is None or written is None else read + written
        elif request_data is not None:
            # PTB's wire format (form fields with JSON values), encoded once here: aiohttp's own
            # form handling for a dict costs more than the rest of the request
            data = urlencode(request_data.json_parameters).encode()
            headers = FORM_HEADERS
        connect, pool = self._timeout("connect", connect_timeout), self._timeout("pool", pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` includes waiting for a free connection of the pool
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        if log.isEnabledFor(logging.DEBUG):  # the URL holds the token: bot.logs redacts it
            log.debug("HTTP Request: %s %s %d", method, url, response.status)
        return response.status, payload
