"""API client set-up: a kubeconfig file, or the pod's service account in a cluster."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


async def api_client(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """A kubernetes_asyncio ApiClient for `kubeconfig` (its `context`, default the current one), or the
    in-cluster service account without one. `kubeconfig` may list several files joined by ':' as
    KUBECONFIG does."""
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    if kubeconfig:
        await config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    else:
        config.load_incluster_config(client_configuration=configuration)
    return api_client_for(configuration)


def api_client_for(configuration: Any) -> Any:
    """A kubernetes_asyncio ApiClient for `configuration`, without per-request environment look-ups."""
    from kubernetes_asyncio import client

    api = client.ApiClient(configuration)
    _skip_env_lookups(api)
    return api


def _skip_env_lookups(api: Any) -> None:
    """kubernetes_asyncio's aiohttp session trusts the environment, so every request first looks up
    ~/.netrc and the proxy variables, each in a thread of the default executor: two thread hops per
    request, ~10% of the controller's CPU under load (benchmarks/bench_scale.py --profile). When no
    proxy variable applies to the API server (the usual case; one that does keeps the session as it
    is), the session is replaced by one over the same connector that does not look: netrc would only
    add a Basic credential the client's own token already excludes."""
    import aiohttp
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    rest = api.rest_client
    try:
        get_env_proxy_for_url(URL(api.configuration.host))
        return  # a proxy from the environment applies: aiohttp keeps finding it per request
    except LookupError:
        pass
    old = rest.pool_manager
    connector = old.connector
    old.detach()
    # read_bufsize as kubernetes_asyncio sets it: watch events of large objects exceed aiohttp's default
    rest.pool_manager = aiohttp.ClientSession(connector=connector, trust_env=False, read_bufsize=2**21)


def resource_of(url: str) -> str:
    """The resource a request URL names, as `plural` or `plural/subresource` (`pods`, `workflows/status`,
    `events`): /api/v1/namespaces/NS/pods/NAME/status -> `pods/status`. A namespace itself is
    `namespaces`. Anything else (discovery, /version) is `other`, so the label stays bounded."""
    path = url.split("?", 1)[0].split("://", 1)[-1]
    parts = [p for p in path.split("/")[1:] if p]  # the host dropped
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return "other"
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]
    if not rest:
        return "other"
    return f"{rest[0]}/{rest[2]}" if len(rest) >= 3 else rest[0]


def count_requests(api: Any, count: Callable[[str, str], None]) -> None:
    """Call `count(verb, resource)` for every request `api` (a kubernetes_asyncio ApiClient) sends: verb
    GET, WATCH (a GET with watch=true), POST, PUT, PATCH, DELETE; resource as `resource_of` says.
    Informers and kube/rest.py both go through its REST client, so this sees every request of the
    program."""
    rest = api.rest_client
    send = rest.request

    async def request(method: str, url: str, query_params: Any = None, *args: Any, **kwargs: Any) -> Any:
        verb = method.upper()
        if verb == "GET" and any(k == "watch" and str(v).lower() == "true" for k, v in query_params or ()):
            verb = "WATCH"
        count(verb, resource_of(url))
        return await send(method, url, query_params, *args, **kwargs)

    rest.request = request
