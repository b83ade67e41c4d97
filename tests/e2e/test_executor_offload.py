"""A template past 128 KiB on the real cluster, run by `sluice controller` from this tree: the engine puts
it in a ConfigMap named after the pod (Linux refuses a longer ARGO_TEMPLATE variable), the pod mounts it
at /argo/config, and init and wait read it there (workflow/engine/pods.py, sluice_executor/podenv.py).
Needs the cluster's Sluice image built from a tree that has the offloading executor.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .controller_support import grant_executor, running_controller, wait_done, workflow


@pytest.fixture
def controller(kubeconfig: Path, kubectl, namespace: str, tmp_path):
    grant_executor(kubectl, namespace)
    instance = f"e2e-offload-{uuid.uuid4().hex[:6]}"
    with running_controller(kubeconfig, namespace, instance, tmp_path):
        yield instance


def test_a_200_kib_script_runs_from_its_config_map(kubectl, namespace, controller):
    name = f"offload-{uuid.uuid4().hex[:5]}"
    padding = "# " + "x" * (200 * 1024) + "\n"
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [[{"name": "big", "template": "big"}]],
                "outputs": {
                    "parameters": [{"name": "r", "valueFrom": {"parameter": "{{steps.big.outputs.result}}"}}]
                },
            },
            {
                "name": "big",
                "script": {"image": "busybox:1.36", "command": ["sh"], "source": padding + "echo big\n"},
            },
        ],
    }
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, controller, spec)))
    wf = wait_done(kubectl, namespace, name, timeout=300)
    nodes = {n["displayName"]: n for n in wf["status"]["nodes"].values()}
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    [pod] = [
        p
        for p in pods  # the namespace is shared with other tests' pods, some without annotations
        if (p["metadata"].get("annotations") or {}).get("workflows.argoproj.io/node-id") == nodes["big"]["id"]
    ]
    init = next(c for c in pod["spec"]["initContainers"] if c["name"] == "init")
    assert {"name": "ARGO_TEMPLATE", "value": "offloaded"} in init["env"]
    config_map = json.loads(
        kubectl("get", "configmap", pod["metadata"]["name"], "-n", namespace, "-o", "json")
    )
    assert json.loads(config_map["data"]["ARGO_TEMPLATE"])["script"]["source"].endswith("echo big\n")
    # handed to the pod once it existed: pod GC removes it with the pod
    assert config_map["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
    ]
    # init and wait read the template from it (needs the cluster image built with this executor)
    assert wf["status"]["phase"] == "Succeeded", [n.get("message") for n in nodes.values()]
    assert nodes["big"]["outputs"]["result"] == "big"
