"""Network safety of the project's cluster, checked without sending a packet off this machine:
the host's firewall rules, the pods' resolv.conf and the cluster DNS's sockets are read; the only
traffic is to the node's own address and the cluster's Service address (both on this machine).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from .conftest import CLUSTER_DIR
from .kube import api_client, exit_code, pod_manifest, run_pod

POD_CIDR = "10.244.0.0/16"
NODE_IP = "10.250.0.1"


@pytest.fixture(autouse=True)
def _own_cluster_only(own_cluster):
    if not own_cluster:
        pytest.skip("host network checks apply to the project's own cluster (cluster/up.sh) only")


def _rules(cmd: str) -> list[str]:
    if os.geteuid() != 0:
        pytest.fail("the firewall checks read iptables and need root (as cluster-up does)")
    return subprocess.run(
        [cmd, "-w", "-S", "FORWARD"], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_forward_rejects_pod_traffic_leaving_the_machine():
    rules = [r for r in _rules("iptables") if r.startswith("-A FORWARD")]
    ours = f"-A FORWARD -s {POD_CIDR} ! -o cni0 -m comment --comment sluice-cluster -j REJECT"
    # First of all (nothing before it may accept; kube-proxy's chains come after it).
    assert rules and rules[0].startswith(ours), rules


def test_forward_rejects_ipv6_from_the_bridge():
    rules = [r for r in _rules("ip6tables") if r.startswith("-A FORWARD")]
    ours = "-A FORWARD -i cni0 ! -o cni0 -m comment --comment sluice-cluster -j REJECT"
    assert rules and rules[0].startswith(ours), rules


def test_no_masquerade_for_the_pod_range():
    """The bridge plugin runs with ipMasq false: pod addresses are never rewritten to the host's."""
    _rules("iptables")
    out = subprocess.run(
        ["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"], capture_output=True, text=True, check=True
    )
    offending = [
        r for r in out.stdout.splitlines() if "-j CNI-" in r or (POD_CIDR in r and "MASQUERADE" in r)
    ]
    assert not offending, offending


async def _resolv_conf(kubeconfig, namespace, name: str, **spec) -> str:
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api,
            namespace,
            pod_manifest(
                name, "busybox:1.36", ["sh", "-c"], ["echo BEGIN; cat /etc/resolv.conf; echo END"], **spec
            ),
        )
    assert exit_code(pod) == 0
    return logs.split("BEGIN", 1)[1].split("END", 1)[0]


async def test_pod_resolv_conf_names_only_the_cluster_dns(kubeconfig, namespace):
    """A pod (dnsPolicy ClusterFirst, the default) asks the cluster DNS on the node address and nothing
    else: none of the host's nameservers or search domains reaches it."""
    body = await _resolv_conf(kubeconfig, namespace, "resolv")
    lines = [line.split() for line in body.splitlines() if line.strip() and not line.startswith("#")]
    assert [w for w in lines if w[0] == "nameserver"] == [["nameserver", NODE_IP]], body
    search = [w[1:] for w in lines if w[0] == "search"]
    assert search == [[f"{namespace}.svc.cluster.local", "svc.cluster.local", "cluster.local"]], body


async def test_pod_of_dns_policy_default_gets_no_nameserver(kubeconfig, namespace):
    """dnsPolicy Default takes the kubelet's resolvConf, which names no nameserver (never the host's)."""
    body = await _resolv_conf(kubeconfig, namespace, "resolv-default", dnsPolicy="Default")
    assert "nameserver" not in body, body
    assert "options" in body, body  # proof that the kubelet's file was used, not a copy of the host's


def _sockets_of(pid: str) -> list[tuple[str, str, str]]:
    """(state, local address, peer address) of every TCP and UDP socket of the process `pid`."""
    out = subprocess.run(["ss", "-Hantup"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        if f"pid={pid}," in line:
            fields = line.split()
            found.append((fields[1], fields[4].rsplit(":", 1)[0], fields[5].rsplit(":", 1)[0]))
    return found


def test_cluster_dns_listens_and_talks_only_on_this_machine():
    """The cluster DNS (cluster/up.sh) listens on the node address (DNS) and 127.0.0.1 (readiness) only,
    and its only connections are to the API server on the node address: it has no upstream to ask."""
    _rules("iptables")  # root, as reading another process's sockets needs
    pid = (CLUSTER_DIR / "pids" / "coredns.pid").read_text().strip()
    sockets = _sockets_of(pid)
    assert {(state, local) for state, local, _ in sockets if state in ("UNCONN", "LISTEN")} >= {
        ("UNCONN", NODE_IP),
        ("LISTEN", NODE_IP),
    }, sockets
    local_ok = {NODE_IP, "127.0.0.1"}
    assert all(local in local_ok for _, local, _ in sockets), sockets
    assert all(peer in local_ok | {"*", "0.0.0.0"} for _, _, peer in sockets), sockets


async def test_pod_reaches_the_api_server_service(kubeconfig, namespace):
    """Through kube-proxy's rules: 10.96.0.1:443 is DNAT-ed to the API server on this machine."""
    script = (
        "import json, os, ssl, urllib.request\n"
        "sa = '/var/run/secrets/kubernetes.io/serviceaccount'\n"
        "ctx = ssl.create_default_context(cafile=sa + '/ca.crt')\n"
        "host = os.environ['KUBERNETES_SERVICE_HOST']\n"
        "req = urllib.request.Request(f'https://{host}:443/version',"
        " headers={'Authorization': 'Bearer ' + open(sa + '/token').read()})\n"
        "print(host, json.load(urllib.request.urlopen(req, context=ctx, timeout=20))['gitVersion'])\n"
    )
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api, namespace, pod_manifest("apisvc", "python:alpine3.23", ["python", "-c"], [script])
        )
    assert exit_code(pod) == 0, logs
    assert logs.startswith("10.96.0.1 v1."), logs


async def test_pod_reaches_minio_on_the_node(kubeconfig, namespace):
    script = (
        "import urllib.request\n"
        f"print('minio', urllib.request.urlopen('http://{NODE_IP}:9000/minio/health/live', timeout=20).status)\n"
    )
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api, namespace, pod_manifest("minio", "python:alpine3.23", ["python", "-c"], [script])
        )
    assert exit_code(pod) == 0, logs
    assert "minio 200" in logs


async def test_host_network_pods_are_refused(kubeconfig, namespace):
    """Pod Security baseline: a pod in the host's network namespace would bypass the FORWARD rule."""
    manifest = pod_manifest("hostnet", "busybox:1.36", ["true"], hostNetwork=True)
    async with api_client(kubeconfig) as api:
        with pytest.raises(ApiException) as err:
            await client.CoreV1Api(api).create_namespaced_pod(namespace, manifest)
    assert err.value.status == 403 and "hostNetwork" in err.value.body, err.value.body
