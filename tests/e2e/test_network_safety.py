"""Network safety of the project's cluster, checked without sending a packet off this machine:
the host's firewall rules and the pods' resolv.conf are read; the only traffic is to the node's own
address and the cluster's Service address (both on this machine).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

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


async def test_pod_resolv_conf_has_no_nameserver(kubeconfig, namespace):
    """No nameserver reaches a pod: the kubelet passes its (nameserver-less) resolvConf, never the host's."""
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(
            api,
            namespace,
            pod_manifest(
                "resolv", "busybox:1.36", ["sh", "-c"], ["echo BEGIN; cat /etc/resolv.conf; echo END"]
            ),
        )
    assert exit_code(pod) == 0
    body = logs.split("BEGIN", 1)[1].split("END", 1)[0]
    assert "nameserver" not in body, body
    assert "options" in body, body  # proof that the kubelet's file was used, not a copy of the host's


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
