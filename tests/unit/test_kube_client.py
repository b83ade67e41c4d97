"""kube/client.py: the request counter's resource label, and the API client that skips the per-request
environment look-ups (netrc, proxy variables) when no proxy applies to the API server."""

from __future__ import annotations

import pytest

from kube.client import api_client_for, resource_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "resource"),
    [
        ("https://127.0.0.1:6443/api/v1/namespaces/ns/pods", "pods"),
        ("https://127.0.0.1:6443/api/v1/namespaces/ns/pods/p-1", "pods"),
        ("https://127.0.0.1:6443/api/v1/namespaces/ns/pods/p-1/log?container=main", "pods/log"),
        ("https://127.0.0.1:6443/api/v1/pods?watch=true&labelSelector=a", "pods"),
        ("https://127.0.0.1:6443/api/v1/namespaces/ns/events", "events"),
        ("https://127.0.0.1:6443/api/v1/namespaces/ns", "namespaces"),
        ("https://127.0.0.1:6443/api/v1/namespaces", "namespaces"),
        ("https://h/apis/argoproj.io/v1alpha1/namespaces/ns/workflows/wf/status", "workflows/status"),
        ("https://h/apis/argoproj.io/v1alpha1/namespaces/ns/workflowtaskresults", "workflowtaskresults"),
        ("https://h/apis/argoproj.io/v1alpha1/clusterworkflowtemplates/t", "clusterworkflowtemplates"),
        ("https://h/apis/coordination.k8s.io/v1/namespaces/ns/leases/l", "leases"),
        ("https://h/apis/argoproj.io/v1alpha1", "other"),
        ("https://h/api/v1", "other"),
        ("https://h/version", "other"),
        ("https://h/healthz", "other"),
    ],
)
def test_the_resource_a_url_names(url: str, resource: str) -> None:
    assert resource_of(url) == resource


def _configuration(host: str):
    from kubernetes_asyncio import client

    cfg = client.Configuration()
    cfg.host = host
    return cfg


async def test_without_a_proxy_for_the_api_server_the_session_does_not_look_per_request(monkeypatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    api = api_client_for(_configuration("https://127.0.0.1:6443"))
    try:
        assert api.rest_client.pool_manager.trust_env is False
        assert not api.rest_client.pool_manager.closed
    finally:
        await api.close()
    # a proxy that the API server's host bypasses changes nothing
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    api = api_client_for(_configuration("https://127.0.0.1:6443"))
    try:
        assert api.rest_client.pool_manager.trust_env is False
    finally:
        await api.close()


async def test_a_proxy_from_the_environment_that_applies_is_still_honoured(monkeypatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    api = api_client_for(_configuration("https://10.250.0.1:6443"))
    try:
        assert api.rest_client.pool_manager.trust_env is True
    finally:
        await api.close()
