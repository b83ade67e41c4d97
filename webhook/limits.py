"""Connection limits of the HTTPS site: a cap on open connections, a deadline for the TLS handshake,
and a deadline for each connection's first request (issue 13 item 7: slowloris; 1,000 idle TLS
connections held ~300 MB).

aiohttp has no header-read timeout of its own and accepts any number of connections, so the site is
created here with a protocol factory that wraps aiohttp's: a connection over the cap is closed at
once, and a connection that has not begun a request within `first_request` seconds of its handshake
is closed. Idle keep-alive connections are closed by aiohttp's keepalive_timeout; a request's body
has its own deadline in webhook/server.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(slots=True)
class Limits:
    max_connections: int = 512  # the API servers of a cluster keep a few each; well above that
    handshake: float = 10.0  # seconds to finish the TLS handshake
    first_request: float = 10.0  # seconds from the handshake to a request's headers
    keepalive: float = 30.0  # seconds an idle keep-alive connection is kept


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the cap and the first-request deadline around it."""

    def __init__(self, inner: Any, site: LimitedSite) -> None:
        self.inner, self.site = inner, site
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False

    def connection_made(self, transport: Any) -> None:
        site = self.site
        if site.open >= site.limits.max_connections:
            site.refused += 1
            transport.abort()
            return
        site.open += 1
        self.counted = True
        self.inner.connection_made(transport)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(site.limits.first_request, self._expire, transport)

    def _expire(self, transport: Any) -> None:
        if not getattr(self.inner, "_request_count", 0) and not transport.is_closing():
            self.site.expired += 1
            transport.abort()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.site.open -= 1
            self.inner.connection_lost(exc)


class LimitedSite(web.TCPSite):
    """web.TCPSite with Limits (the runner must be built with keepalive_timeout=limits.keepalive)."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, limits: Limits, **kwargs: Any
    ) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.limits = limits
        self.open = 0
        self.refused = 0
        self.expired = 0

    async def start(self) -> None:
        self._runner._reg_site(self)  # BaseSite.start; TCPSite.start would create the server itself
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Guarded(server(), self),
            self._host,
            self._port,
            ssl=self._ssl_context,
            ssl_handshake_timeout=self.limits.handshake if self._ssl_context else None,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
