"""The project cluster's DNS (cluster/up.sh: CoreDNS built by cluster/build-coredns.sh, on the node
address): pods resolve Services by name in cluster.local, and a name outside it fails at once, answered
NXDOMAIN by the server itself. Every query goes to the node address (10.250.0.1) only: never to another resolver.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from .conftest import CLUSTER_DIR, fresh_namespace
from .dnswire import query
from .kube import api_client, exit_code, pod_manifest, run_pod

DNS_IP = "10.250.0.1"
API_SERVICE_IP = "10.96.0.1"
# A name under `.example` (reserved by RFC 2606): outside cluster.local, and nobody's real name.
OUTSIDE = "sluice-outside.example"
# Plugins that can send a query elsewhere or read the host's names; none may be in the server.
REACHING_PLUGINS = {"forward", "grpc", "etcd", "hosts", "loop", "route53", "azure", "clouddns", "nomad"}


@pytest.fixture
def own_cluster_only(own_cluster):
    if not own_cluster:
        pytest.skip("the server's host side applies to the project's own cluster (cluster/up.sh) only")


@pytest.fixture(scope="module")
def dns_namespace(kubectl):
    yield from fresh_namespace(kubectl, "sluice-dns")


def _corefile() -> str:
    return Path("/run/sluice-cluster/coredns/Corefile").read_text()  # cluster/up.sh writes it there


def test_the_server_has_no_upstream(own_cluster_only):
    """Nothing to forward to: cluster.local from the API server, everything else answered by a template,
    and no plugin able to reach elsewhere, neither in the Corefile nor compiled in."""
    corefile = _corefile()
    blocks = re.findall(r"^([^\s{}][^{\n]*)\{", corefile, flags=re.M)
    assert [b.strip() for b in blocks] == ["cluster.local:53", "."], corefile
    catch_all = corefile.split("\n. {", 1)[1]
    assert re.search(r"template ANY ANY \{\s*rcode NXDOMAIN\s*\}", catch_all), corefile
    words = set(re.findall(r"[a-z_0-9]+", corefile))
    assert not words & (REACHING_PLUGINS | {"upstream", "proxy"}), corefile
    plugins = subprocess.run(
        [str(CLUSTER_DIR / "bin" / "coredns"), "-plugins"], capture_output=True, text=True, check=True
    ).stdout
    compiled_in = {line.strip() for line in plugins.splitlines() if line.strip()}
    assert "kubernetes" in compiled_in and not compiled_in & REACHING_PLUGINS, plugins


def test_the_server_answers_cluster_names(own_cluster_only):
    answer = query(DNS_IP, "kubernetes.default.svc.cluster.local")
    assert answer.rcode == "NOERROR" and answer.authoritative, answer
    assert answer.addresses == (API_SERVICE_IP,), answer
    missing = query(DNS_IP, "no-such-service.default.svc.cluster.local")
    assert missing.rcode == "NXDOMAIN" and missing.authoritative and not missing.addresses, missing


def test_an_outside_name_is_answered_by_the_server_itself(own_cluster_only):
    """NXDOMAIN from the server's own template: with no upstream in the Corefile (above) and no socket of
    the server's leading off this machine (test_network_safety.py), nothing was asked elsewhere."""
    for name in (OUTSIDE, "www.example.com", "example", "1.0.0.10.in-addr.arpa"):
        answer = query(DNS_IP, name)
        assert answer.rcode == "NXDOMAIN" and not answer.addresses, (name, answer)


_RESOLVE = """
import json, socket, time
def resolve(name):
    t0 = time.monotonic()
    try:
        addrs = sorted({a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)})
        out = {"addresses": addrs}
    except socket.gaierror as err:
        out = {"error": err.errno, "message": str(err)}
    out["seconds"] = round(time.monotonic() - t0, 3)
    return out
print("RESULT", json.dumps({name: resolve(name) for name in NAMES}))
"""


def _result(logs: str) -> dict:
    (line,) = [line for line in logs.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


async def test_pods_resolve_services_by_name(kubeconfig, dns_namespace):
    """A pod finds the API server's Service by its full name, a Service of its own namespace by its short
    name (the search list) and by `<svc>.<ns>.svc` (the quick-start's `minio.sluice.svc` form)."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "minio"},
        "spec": {"ports": [{"port": 9000}]},  # no selector: only its name and address matter here
    }
    names = [
        "kubernetes.default.svc.cluster.local",
        "kubernetes.default",
        "minio",
        f"minio.{dns_namespace}.svc",
        f"minio.{dns_namespace}.svc.cluster.local",
    ]
    script = _RESOLVE.replace("NAMES", json.dumps(names))
    async with api_client(kubeconfig) as api:
        svc = await client.CoreV1Api(api).create_namespaced_service(dns_namespace, service)
        cluster_ip = svc.spec.cluster_ip
        pod, logs = await run_pod(
            api, dns_namespace, pod_manifest("resolve", "python:alpine3.23", ["python", "-c"], [script])
        )
    assert exit_code(pod) == 0, logs
    got = _result(logs)
    assert got["kubernetes.default.svc.cluster.local"]["addresses"] == [API_SERVICE_IP], got
    assert got["kubernetes.default"]["addresses"] == [API_SERVICE_IP], got
    for name in names[2:]:
        assert got[name].get("addresses") == [cluster_ip], (name, got)


async def test_a_pod_resolving_an_outside_name_fails_at_once(kubeconfig, dns_namespace):
    """The pod's resolver gets NXDOMAIN from the cluster DNS for every candidate (the search list, then the
    name itself): "Name or service not known" (EAI_NONAME) comes only from answers, never from a
    resolver that timed out or was refused (EAI_AGAIN)."""
    script = _RESOLVE.replace("NAMES", json.dumps([OUTSIDE]))
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api, dns_namespace, pod_manifest("outside", "python:alpine3.23", ["python", "-c"], [script])
        )
    assert exit_code(pod) == 0, logs
    got = _result(logs)[OUTSIDE]
    assert "addresses" not in got, got
    print(f"outside name failed after {got['seconds']} s: {got['message']}")
    assert got["error"] == socket.EAI_NONAME, got


async def test_a_pod_reaches_the_clusters_minio_by_name(kubeconfig, dns_namespace, own_cluster_only):
    """`minio.default.svc` (cluster/up.sh: a Service whose endpoint is the node's MinIO): resolved by the
    cluster DNS, connected through kube-proxy to 10.250.0.1:9000 on this machine."""
    script = (
        "import urllib.request\n"
        "url = 'http://minio.default.svc:9000/minio/health/live'\n"
        "print('minio', urllib.request.urlopen(url, timeout=20).status)\n"
    )
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api, dns_namespace, pod_manifest("minio-by-name", "python:alpine3.23", ["python", "-c"], [script])
        )
    assert exit_code(pod) == 0, logs
    assert "minio 200" in logs, logs
