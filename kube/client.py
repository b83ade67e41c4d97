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
    return client.ApiClient(configuration)


def count_requests(api: Any, count: Callable[[str], None]) -> None:
    """Call `count(verb)` for every request `api` (a kubernetes_asyncio ApiClient) sends: GET, WATCH (a GET
    with watch=true), POST, PUT, PATCH, DELETE. Informers and kube/rest.py both go through its REST
    client, so this sees every request of the program."""
    rest = api.rest_client
    send = rest.request

    async def request(method: str, url: str, query_params: Any = None, *args: Any, **kwargs: Any) -> Any:
        verb = method.upper()
        if verb == "GET" and any(k == "watch" and str(v).lower() == "true" for k, v in query_params or ()):
            verb = "WATCH"
        count(verb)
        return await send(method, url, query_params, *args, **kwargs)

    rest.request = request
