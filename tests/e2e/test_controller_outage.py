"""The API server goes away mid-run and comes back: the controller recovers by itself.

The cluster's API server is shared, so it is not restarted; the controller reaches it through a TCP proxy
on this host (tests/e2e/tcp_proxy.py) that the test cuts: every connection (watches, requests, the
leader Lease's renewals) is closed at once and new ones are refused for a while, which is what a client
sees of an API server restart. Workflows with pods run across the outage and others are created
during it (so only a relist can find them); every one must succeed, with one pod per node (a watch of
its own, straight to the API server, records every pod creation)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
import yaml

from .controller_support import (
    INSTANCE_LABEL,
    LocalController,
    create_all,
    eventually,
    get_wf,
    grant_executor,
    watch_pod_creations,
    workflow,
)
from .tcp_proxy import CuttableProxy

# Pods on a loaded 2-core machine, an outage, a restart: more than pytest's default 300 s per test.
pytestmark = pytest.mark.timeout(900)
STEPS = {
    "entrypoint": "main",
    "templates": [
        {
            "name": "main",
            "steps": [
                [{"name": "a", "template": "echo"}],
                [{"name": "wait", "template": "pause"}],
                [{"name": "b", "template": "echo"}],
            ],
        },
        {"name": "echo", "container": {"image": "busybox:1.36", "command": ["true"]}},
        {"name": "pause", "suspend": {"duration": "3"}},
    ],
}


def proxied_kubeconfig(kubeconfig: Path, proxy: CuttableProxy, into: Path) -> Path:
    """A copy of `kubeconfig` whose server is the proxy (same address, so the certificate still matches)."""
    doc = yaml.safe_load(kubeconfig.read_text())
    cluster = doc["clusters"][0]["cluster"]
    host, _, _ = cluster["server"].removeprefix("https://").rstrip("/").rpartition(":")
    cluster["server"] = f"https://{host}:{proxy.port}"
    path = into / "kubeconfig-proxied"
    path.write_text(yaml.safe_dump(doc))
    return path


def api_server(kubeconfig: Path) -> tuple[str, int]:
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    host, _, port = server.removeprefix("https://").rstrip("/").rpartition(":")
    return host, int(port)


def phases(kubectl, namespace: str, instance: str) -> dict[str, str]:
    out = kubectl("get", "workflows", "-n", namespace, "-l", f"{INSTANCE_LABEL}={instance}", "-o", "json")
    return {
        w["metadata"]["name"]: (w.get("status") or {}).get("phase") or "" for w in json.loads(out)["items"]
    }


@pytest.mark.parametrize(
    ("outage", "leader_elect"),
    [(20, False), (20, True)],
    ids=["rides-it-out", "loses-its-lease-and-is-restarted"],
)
async def test_the_controller_recovers_from_an_api_server_outage(
    kubeconfig, kubectl, namespace, tmp_path, outage, leader_elect
):
    """Without leader election the process rides the outage out: its informers relist, its failed
    reconciles are retried, it never exits. With it, it cannot renew its Lease within the renew deadline
    (10 s), so it exits 1 at once (two replicas must never act together) and its Deployment starts it
    again; here the test starts it again, as the kubelet would. (Whether a shorter outage is ridden out
    with a Lease depends on how fast the loaded API server answers the renewal after it: not a test.)"""
    host, port = api_server(kubeconfig)
    assert host in ("127.0.0.1", "localhost", "10.250.0.1"), f"not this machine's API server: {host}"
    proxy = CuttableProxy((host, port))
    proxied = proxied_kubeconfig(kubeconfig, proxy, tmp_path)
    instance = f"out-{uuid.uuid4().hex[:6]}"
    lease = f"sluice-outage-{instance}"
    before = [f"before-{i}-{uuid.uuid4().hex[:4]}" for i in range(4)]
    during = [f"during-{i}-{uuid.uuid4().hex[:4]}" for i in range(2)]
    creations: dict[str, set[str]] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(
        watch_pod_creations(kubeconfig, namespace, {*before, *during}, creations, stop)
    )
    await asyncio.to_thread(grant_executor, kubectl, namespace)

    def start() -> LocalController:
        return LocalController(proxied, namespace, instance, tmp_path, leader_elect=leader_elect, lease=lease)

    ctl = start()
    exits: list[tuple[int | None, str]] = []

    def all_done() -> dict[str, str] | None:
        nonlocal ctl
        if ctl.proc.poll() is not None:  # the kubelet's part: start it again
            exits.append((ctl.proc.returncode, ctl.tail(60)))
            ctl.stop()
            ctl = start()
        seen = phases(kubectl, namespace, instance)
        names = (*before, *during)
        return seen if all(seen.get(n) in ("Succeeded", "Failed", "Error") for n in names) else None

    try:
        await asyncio.to_thread(ctl.wait_ready)
        items = [workflow(n, instance, STEPS) for n in before]
        await asyncio.to_thread(create_all, kubectl, namespace, items)
        # Cut once the first pods exist: some of them finish while the controller cannot see it.
        await asyncio.to_thread(eventually, lambda: len(creations) >= 2, 180, 0.3, "the first pods created")
        cut = proxy.cut()
        assert cut >= 5, f"only {cut} connections went through the proxy"  # the watches at least
        items = [workflow(n, instance, STEPS) for n in during]
        await asyncio.to_thread(create_all, kubectl, namespace, items)
        await asyncio.sleep(outage)  # the outage itself: time must pass with the server away
        proxy.restore()
        final = await asyncio.to_thread(eventually, all_done, 420, 1.0, "every workflow completed")
        wrong = {n: p for n, p in final.items() if p != "Succeeded"}
        assert not wrong, f"{wrong}\n{ctl.tail()}"
        if not leader_elect:
            assert exits == [], f"the controller exited during a {outage} s outage: {exits}"
        else:
            assert exits, "the controller kept acting without its Lease"
            for code, log in exits:
                assert code == 1 and "leader lease not renewed in time" in log, (code, log)
        twice = {node: uids for node, uids in creations.items() if len(uids) > 1}
        assert not twice, f"pods created more than once for a node: {twice}"
        assert len(creations) == 2 * len(final), f"{len(creations)} pod nodes seen, {2 * len(final)} expected"
        await asyncio.to_thread(
            eventually,
            lambda: ctl.metric("sluice_controller_leader") == 1,
            90,
            0.5,
            "leading through the proxy" if leader_elect else "acting (no election)",
        )
        assert (
            get_wf(kubectl, namespace, during[0])["metadata"]["labels"]["workflows.argoproj.io/completed"]
            == "true"
        )
    finally:
        stop.set()
        watcher.cancel()
        code = ctl.stop()
        proxy.stop()
        if leader_elect:
            await asyncio.to_thread(kubectl, "delete", "lease", lease, "-n", namespace, "--ignore-not-found")
    assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"
