"""Informer caches checked against the real API server (kube/cache_check.py, controller/run.py).

The first test runs an informer in this process over ConfigMaps of the test namespace and makes its
cache wrong the way a quiet watch would leave it (an event never delivered): the check finds exactly
that, and a relist mends it. The second runs the controller checking every 2 seconds while workflows
change its caches: real churn must never be reported as drift."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from kube.cache_check import find_drift
from kube.informer import Informer, Store

from .controller_support import LocalController, eventually, wait_done, workflow


async def test_a_missed_event_is_found_and_a_relist_mends_it(kubeconfig: Path, kubectl, namespace):
    from kubernetes_asyncio import client, config

    prefix = f"cc-{uuid.uuid4().hex[:5]}"
    for i in range(3):
        await asyncio.to_thread(
            kubectl, "create", "configmap", f"{prefix}-{i}", "-n", namespace, f"--from-literal=v={i}"
        )
    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        core = client.CoreV1Api(api)
        store = Store()
        inf = Informer.into(
            "configmaps",
            core.list_namespaced_config_map,
            {"namespace": namespace},
            store,
            raw=True,  # as the controller lists and watches ConfigMaps and Pods
            page_size=2,  # real continue tokens: the namespace holds 4 ConfigMaps (kube-root-ca.crt too)
        )
        task = asyncio.create_task(inf.run())
        try:
            mine = lambda: sorted(k[1] for k in store.objects if k[1].startswith(prefix))  # noqa: E731
            await asyncio.to_thread(eventually, lambda: len(mine()) == 3, 60, 0.2, "the informer synced")
            # the API server's JSON as it is, never the client's models turned back into dicts
            listed = store.objects[(namespace, f"{prefix}-0")]
            assert type(listed) is dict and listed["data"] == {"v": "0"}
            assert isinstance(listed["metadata"]["creationTimestamp"], str)
            await asyncio.to_thread(
                kubectl, "create", "configmap", f"{prefix}-w", "-n", namespace, "--from-literal=v=w"
            )
            await asyncio.to_thread(
                eventually, lambda: (namespace, f"{prefix}-w") in store.objects, 60, 0.2, "the watch saw it"
            )
            watched = store.objects.pop((namespace, f"{prefix}-w"))
            assert type(watched) is dict and watched["data"] == {"v": "w"}
            assert isinstance(watched["metadata"]["creationTimestamp"], str)
            await asyncio.to_thread(kubectl, "delete", "configmap", f"{prefix}-w", "-n", namespace)
            await asyncio.to_thread(
                eventually, lambda: (namespace, f"{prefix}-w") not in store.objects, 60, 0.2, "deleted"
            )
            assert len(await find_drift(inf, store, grace=1)) == 0
            # What a quiet watch leaves behind: an ADDED never delivered, a DELETE never delivered, an
            # update never delivered (the cache keeps an older version of the object).
            lost = store.objects.pop((namespace, f"{prefix}-0"))
            store.objects[(namespace, f"{prefix}-ghost")] = {
                **lost,
                "metadata": {**lost["metadata"], "name": f"{prefix}-ghost"},
            }
            old = store.objects[(namespace, f"{prefix}-1")]
            store.objects[(namespace, f"{prefix}-1")] = {
                **old,
                "metadata": {**old["metadata"], "resourceVersion": "1"},
            }
            drift = await find_drift(inf, store, grace=1)
            assert drift.missing == [(namespace, f"{prefix}-0")]
            assert drift.extra == [(namespace, f"{prefix}-ghost")]
            assert drift.stale == [(namespace, f"{prefix}-1")]
            task.cancel()
            task = asyncio.create_task(inf.run())  # the relist the controller does
            await asyncio.to_thread(
                eventually, lambda: mine() == [f"{prefix}-{i}" for i in range(3)], 60, 0.2, "mended"
            )
            assert len(await find_drift(inf, store, grace=1)) == 0
        finally:
            task.cancel()
            for i in range(3):
                await asyncio.to_thread(
                    kubectl, "delete", "configmap", f"{prefix}-{i}", "-n", namespace, "--ignore-not-found"
                )


async def test_a_raw_list_that_the_api_server_refuses_raises_its_status(kubeconfig: Path, namespace):
    """Without the client's models, the client leaves the status check to the informer: a refusal must
    still be an ApiException with the API server's status, never an empty list."""
    from kubernetes_asyncio import client, config
    from kubernetes_asyncio.client.exceptions import ApiException

    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        custom = client.CustomObjectsApi(api)
        args = {
            "group": "argoproj.io",
            "version": "v1alpha1",
            "plural": "nosuchthings",
            "namespace": namespace,
        }
        inf = Informer.into("nosuchthings", custom.list_namespaced_custom_object, args, Store(), raw=True)
        try:
            await inf.fetch()
        except ApiException as exc:
            assert exc.status == 404, exc
        else:
            raise AssertionError("a list of an unknown resource returned")


def test_the_controllers_checks_see_no_drift_in_real_churn(kubeconfig, kubectl, namespace, tmp_path):
    instance = f"cc-{uuid.uuid4().hex[:6]}"
    ctl = LocalController(kubeconfig, namespace, instance, tmp_path, extra=("--cache-check-seconds", "2"))
    names = [f"cc-{i}-{uuid.uuid4().hex[:4]}" for i in range(3)]
    spec = {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": f"s{i}", "template": "pause"}] for i in range(4)]},
            {"name": "pause", "suspend": {"duration": "1"}},
        ],
    }
    try:
        ctl.wait_ready()
        for name in names:
            kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, instance, spec)))
        for name in names:
            assert wait_done(kubectl, namespace, name)["status"]["phase"] == "Succeeded"
        # Every informer checked at least twice, some while the workflows were changing.
        eventually(
            lambda: (
                ctl.metric('sluice_controller_cache_checks_total{resource="workflows"}') >= 2
                and ctl.metric('sluice_controller_cache_checks_total{resource="pods"}') >= 2
            ),
            120,
            0.5,
            "cache checks ran",
        )
        assert ctl.metric("sluice_controller_cache_drift_total") == 0, ctl.tail()
    finally:
        code = ctl.stop()
        for name in names:
            kubectl("delete", "workflow", name, "-n", namespace, "--ignore-not-found", "--wait=false")
    assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"
