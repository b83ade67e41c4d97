"""The `sluice ui` web server: aiohttp on 127.0.0.1, the JSON API (sluice/ui/api.py), the pages, and the
static files they use (sluice/ui/static/: one script, one stylesheet; no CDN, works offline).

Pages are small server-rendered shells that sluice/ui/static/app.js fills from the API:
    /workflows?namespace=&phase=&label=     the list, with its filters in the address
    /workflows/NS/NAME?node=ID              the graph, live; ?node= opens that node's details and logs
    /cron-workflows, /workflow-templates    read-only lists (a cluster's)

Security: only Host headers naming this machine are answered (a web page elsewhere cannot reach the
server through DNS rebinding), and a POST (an action) must be JSON from this server's own origin, so
another site cannot make the browser send one.
"""

from __future__ import annotations

import html
import json
import logging
from importlib import resources
from typing import Any

from aiohttp import web

from sluice.ui import api
from sluice.ui.sources import Source, UiError

log = logging.getLogger("sluice.ui")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def _host_ok(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in LOCAL_HOSTS


@web.middleware
async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
    if not _host_ok(request.host):
        return web.json_response({"error": f"host {request.host!r} is not this machine"}, status=421)
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("Origin")
        if origin is not None and origin not in {f"http://{request.host}"}:
            return web.json_response({"error": f"origin {origin!r} may not act here"}, status=403)
    try:
        return await handler(request)
    except UiError as exc:
        return web.json_response({"error": exc.message}, status=exc.status)
    except web.HTTPException:
        raise
    except ConnectionResetError:
        raise
    except Exception as exc:  # a bug must not leak a traceback into the page: logged here, one line there
        log.exception("unexpected error on %s %s", request.method, request.path)
        return web.json_response({"error": f"internal error: {type(exc).__name__}"}, status=500)


NAV = (
    ("/workflows", "Workflows"),
    ("/cron-workflows", "Cron workflows"),
    ("/workflow-templates", "Templates"),
)


def page(title: str, kind: str, data: dict[str, Any], mode: str) -> web.Response:
    links = "".join(f'<a href="{href}">{html.escape(text)}</a>' for href, text in NAV)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · sluice</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
</head><body>
<header><a class="brand" href="/workflows">sluice</a><nav>{links}</nav>
<span class="mode" id="mode">{html.escape(mode)}</span></header>
<main id="app" data-page="{html.escape(kind)}" data-args="{html.escape(json.dumps(data))}">
<noscript>This page needs JavaScript; the same data is at <a href="/api/workflows">/api/workflows</a>.</noscript>
</main>
<script src="/static/app.js"></script>
</body></html>
"""
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


def make_app(source: Source, viewers: Any = None) -> web.Application:
    """The app over `source`; with `viewers` (sluice/ui/viewer_auth.py) every request uses its viewer's
    token instead."""
    from sluice.ui import viewer_auth  # noqa: PLC0415

    middlewares = [guard] if viewers is None else [guard, viewer_auth.middleware(viewers)]
    app = web.Application(middlewares=middlewares, client_max_size=256 * 1024)
    app[api.SOURCE] = source
    mode = source.mode
    if viewers is not None:
        app.add_routes(viewer_auth.routes(viewers))
        mode = "cluster · your token"

        async def close_viewers(app: web.Application) -> None:
            await viewers.close()

        app.on_cleanup.append(close_viewers)

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/workflows")

    async def workflows(request: web.Request) -> web.Response:
        return page("Workflows", "list", {}, mode)

    async def workflow(request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        return page(name, "workflow", {"namespace": ns, "name": name}, mode)

    async def crons(request: web.Request) -> web.Response:
        return page("Cron workflows", "objects", {"kind": "cronworkflows"}, mode)

    async def templates(request: web.Request) -> web.Response:
        return page("Workflow templates", "objects", {"kind": "workflowtemplates"}, mode)

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["file"]
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or suffix not in STATIC_TYPES:
            raise UiError(404, f"no static file {name!r}")
        try:
            data = resources.files("sluice.ui").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise UiError(404, f"no static file {name!r}") from None
        return web.Response(
            body=data, content_type=STATIC_TYPES[suffix], headers={"Cache-Control": "no-cache"}
        )

    app.add_routes(
        [
            web.get("/", home),
            web.get("/workflows", workflows),
            web.get("/workflows/{ns}/{name}", workflow),
            web.get("/cron-workflows", crons),
            web.get("/workflow-templates", templates),
            web.get("/static/{file}", static),
            *api.routes(),
        ]
    )

    async def close_source(app: web.Application) -> None:
        await source.close()

    app.on_cleanup.append(close_source)
    return app


async def serve(source: Source, port: int, ready: Any = None, viewers: Any = None) -> None:
    """Serve on 127.0.0.1:`port` (0: any free port) until cancelled; `ready(port)` once listening."""
    import asyncio  # noqa: PLC0415

    runner = web.AppRunner(make_app(source, viewers), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, shutdown_timeout=1.0)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    if ready is not None:
        ready(bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
