"""/healthz, /readyz and /metrics over plain HTTP (manifests/CONVENTIONS.md: probes on a `health` port
separate from the traffic port), shared by the webhook and the controller.

/healthz answers while the event loop runs; /readyz only when every named condition holds and the
process is not stopping; /metrics is whatever the program's `render()` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(slots=True)
class Readiness:
    """Named conditions that must all hold before /readyz says yes (certificates, caches, ...)."""

    conditions: dict[str, bool] = field(default_factory=dict)
    stopping: bool = False

    def set(self, name: str, value: bool) -> None:
        self.conditions[name] = value

    @property
    def ready(self) -> bool:
        return not self.stopping and all(self.conditions.values())


READINESS = web.AppKey("readiness", Readiness)
RENDER = web.AppKey("render_metrics", Callable[[], str])


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    if readiness.ready:
        return web.Response(text="ok\n")
    waiting = sorted(name for name, ok in readiness.conditions.items() if not ok)
    reason = "stopping" if readiness.stopping else "waiting for " + ", ".join(waiting)
    return web.Response(status=503, text=f"not ready: {reason}\n")


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[RENDER](),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def add_health_routes(app: web.Application, render: Callable[[], str], readiness: Readiness) -> None:
    app[RENDER] = render
    app[READINESS] = readiness
    app.add_routes(
        [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics_endpoint)]
    )


def build_health_app(render: Callable[[], str], readiness: Readiness) -> web.Application:
    app = web.Application(client_max_size=1024)
    add_health_routes(app, render, readiness)
    return app


async def serve_health(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start `app` on host:port; the caller cleans the returned runner up."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
