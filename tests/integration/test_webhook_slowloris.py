"""Slow and idle clients (issue 13 item 7) on the real HTTPS site with small limits: a connection over
the cap is closed at once, one that sends no request (or never finishes its headers) is closed at the
first-request deadline, a body that does not arrive gets 408, and normal requests are served meanwhile."""

from __future__ import annotations

import asyncio
import ssl

from aiohttp import web
from test_webhook_support import free_port

from webhook.admission import Admission
from webhook.limits import LimitedSite, Limits
from webhook.policy.cel import CelPython
from webhook.policy.engine import PolicySet
from webhook.server import Settings, build_app
from webhook.sources import TemplateStore
from webhook.tls import CertReloader

LIMITS = Limits(max_connections=3, handshake=2.0, first_request=1.0, keepalive=30.0)


async def serve(tmp_path):
    reloader = CertReloader(tmp_path / "certs", ["localhost"])
    reloader.start()
    admission = Admission(source=TemplateStore(), policies=PolicySet(CelPython()))
    app = build_app(admission, settings=Settings(body_timeout=1.0, policy_workers=0, limits=LIMITS))
    runner = web.AppRunner(app, keepalive_timeout=LIMITS.keepalive)
    await runner.setup()
    port = free_port()
    site = LimitedSite(runner, "127.0.0.1", port, ssl_context=reloader.context, limits=LIMITS)
    await site.start()
    ctx = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
    return runner, site, port, ctx


async def connect(port, ctx):
    return await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")


async def closed_by_server(reader, within: float) -> bool:
    """True when the server closes the connection (EOF or reset) before `within` seconds."""
    try:
        data = await asyncio.wait_for(reader.read(65536), within)
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True
    except TimeoutError:
        return False
    return data == b""


async def healthz(port, ctx) -> bytes:
    reader, writer = await connect(port, ctx)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return data


async def test_idle_and_slow_connections_are_closed_and_capped(tmp_path):
    runner, site, port, ctx = await serve(tmp_path)
    try:
        # Idle after the handshake: closed at the first-request deadline (1 s here, 10 s by default).
        reader, writer = await connect(port, ctx)
        assert await closed_by_server(reader, 30)
        assert site.expired >= 1
        writer.close()
        # Headers never finished (slowloris): closed the same way.
        reader, writer = await connect(port, ctx)
        writer.write(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        await writer.drain()
        assert await closed_by_server(reader, 30)
        writer.close()
        # A body that never arrives: 408, with the reason.
        reader, writer = await connect(port, ctx)
        writer.write(
            b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"apiVersion":'
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 30)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b"not received within 1s" in answer
        writer.close()
        # The cap: three connections held open, a fourth is closed at once; health answers when one frees.
        held = [await connect(port, ctx) for _ in range(3)]
        extra_reader, extra_writer = await connect(port, ctx)
        assert await closed_by_server(extra_reader, 30)
        assert site.refused >= 1
        extra_writer.close()
        for _, w in held:
            w.close()
        for _ in range(100):
            if site.open == 0:
                break
            await asyncio.sleep(0.05)
        assert site.open == 0
        assert b"200 OK" in await healthz(port, ctx)
    finally:
        await runner.cleanup()
