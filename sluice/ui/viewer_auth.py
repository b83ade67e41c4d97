"""`sluice ui --auth-mode client`: every request acts with the viewer's own bearer token (as argo server's
client auth mode), so the UI can run in the cluster (manifests/ui/sluice-ui.yaml, reached through
`kubectl port-forward`) without any account of its own: no shared admin, the API server checks each
viewer's RBAC.

The token comes from an `Authorization: Bearer` header (scripts) or the `sluice-token` cookie that
/login sets (HttpOnly, SameSite=Strict) after the API server accepted it. Only the cluster's address and
CA are taken from the kubeconfig or the pod; its credentials are never used. API clients are kept per
token (by its SHA-256), at most MAX_CLIENTS, the least recently used closed first.
"""

from __future__ import annotations

import hashlib
import html
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sluice.ui.sources import ClusterSource, Source, UiError

COOKIE = "sluice-token"
MAX_CLIENTS = 64
MAX_TOKEN = 16 * 1024
SA_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
OPEN_PATHS = ("/login", "/logout", "/static/")


class NoViewer(Source):
    """The app's source in client mode: what a request without a token reaches (nothing)."""

    mode = "cluster"

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace


async def base_configuration(kubeconfig: str | None, context: str | None, ca_file: str | None) -> Any:
    """The API server's address and CA only (from the kubeconfig's cluster, else the pod's environment)."""
    import os  # noqa: PLC0415

    from kubernetes_asyncio import client, config  # noqa: PLC0415

    out = client.Configuration()
    if kubeconfig:
        loaded = client.Configuration()
        await config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=loaded)
        out.host, out.ssl_ca_cert, out.verify_ssl = loaded.host, loaded.ssl_ca_cert, loaded.verify_ssl
    else:
        host, port = (
            os.environ.get("KUBERNETES_SERVICE_HOST"),
            os.environ.get("KUBERNETES_SERVICE_PORT", "443"),
        )
        if not host:
            raise UiError(500, "no cluster address: pass --kubeconfig, or run in a pod")
        out.host = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
        out.ssl_ca_cert = ca_file or SA_CA
    if ca_file:
        out.ssl_ca_cert = ca_file
    out.api_key = {}
    return out


class Viewers:
    """One ClusterSource per viewer token, bounded."""

    def __init__(self, base: Any, namespace: str) -> None:
        self.base, self.namespace = base, namespace
        self.sources: OrderedDict[str, ClusterSource] = OrderedDict()

    async def source(self, token: str) -> ClusterSource:
        import copy  # noqa: PLC0415

        from kubernetes_asyncio import client  # noqa: PLC0415

        from kube.rest import Rest  # noqa: PLC0415
        from sluice.cluster import Cluster  # noqa: PLC0415

        key = hashlib.sha256(token.encode()).hexdigest()
        found = self.sources.get(key)
        if found is not None:
            self.sources.move_to_end(key)
            return found
        configuration = copy.copy(self.base)
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        api = client.ApiClient(configuration)
        found = ClusterSource(Cluster(Rest(api), self.namespace, api))
        self.sources[key] = found
        while len(self.sources) > MAX_CLIENTS:
            _, old = self.sources.popitem(last=False)
            await old.close()
        return found

    async def close(self) -> None:
        while self.sources:
            _, old = self.sources.popitem()
            await old.close()


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def middleware(viewers: Viewers) -> Any:
    @web.middleware
    async def viewer_auth(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(OPEN_PATHS):
            return await handler(request)
        token = token_of(request)
        if token is None:
            if request.path.startswith("/api/"):
                raise UiError(401, "no token: log in at /login, or send Authorization: Bearer TOKEN")
            raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
        if len(token) > MAX_TOKEN:
            raise UiError(400, "the token is too long")
        request["source"] = await viewers.source(token)
        return await handler(request)

    return viewer_auth


LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · sluice</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/style.css"></head><body>
<header><a class="brand" href="/workflows">sluice</a></header>
<main><h1>Log in with your token</h1>
<p>This UI acts with your own identity: paste a bearer token the cluster accepts for you
(<code>kubectl create token NAME</code>, or your identity provider's). It is kept in an HttpOnly
cookie of this address only.</p>
{problem}
<form method="post" action="/login" class="login">
<input type="hidden" name="next" value="{next}">
<textarea name="token" rows="6" cols="80" required></textarea><br>
<button type="submit" id="login">Log in</button></form></main></body></html>
"""


def routes(viewers: Viewers) -> list[web.RouteDef]:
    def form(next_path: str, problem: str = "", status: int = 200) -> web.Response:
        shown = f'<div class="problem">{html.escape(problem)}</div>' if problem else ""
        body = LOGIN.format(problem=shown, next=html.escape(next_path))
        return web.Response(text=body, content_type="text/html", status=status)

    def safe_next(value: str) -> str:
        return value if value.startswith("/") and not value.startswith("//") else "/workflows"

    async def login_page(request: web.Request) -> web.Response:
        return form(safe_next(request.query.get("next", "/workflows")))

    async def login(request: web.Request) -> web.Response:
        data = await request.post()
        token, next_path = str(data.get("token") or "").strip(), safe_next(str(data.get("next") or ""))
        if not token or len(token) > MAX_TOKEN:
            return form(next_path, "paste a token", 400)
        source = await viewers.source(token)
        try:  # any authenticated identity may ask this; a refused token is a 401
            await source.allowed(viewers.namespace, {"list": ("list", "workflows")})
        except UiError as exc:
            return form(next_path, f"the cluster refused this token: {exc.message}", 401)
        response = web.HTTPFound(next_path)
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        raise response

    async def logout(request: web.Request) -> web.Response:
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    return [web.get("/login", login_page), web.post("/login", login), web.get("/logout", logout)]
