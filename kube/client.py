"""API client set-up: a kubeconfig file, or the pod's service account in a cluster."""

from __future__ import annotations

import os
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
