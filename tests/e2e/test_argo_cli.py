"""Argo's own `argo` CLI (v4, built from its Go module: cluster/build-argo-cli.sh) reads what Sluice
wrote. A local Sluice controller (controller_support.py) runs the workflows in this module's namespace;
the CLI, in kube mode against the same API server, lists them, gets them (JSON and tree), prints their
pods' logs and waits for them, and must agree with the status read back with kubectl.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from .argo_clients import ArgoCLI, argocd_health, built
from .conftest import fresh_namespace
from .controller_support import (
    eventually,
    get_wf,
    grant_executor,
    running_controller,
    wait_done,
    workflow,
)

# A cold build of the CLI in the first fixture (cluster/e2e.sh builds it before the tier) and pods on a
# loaded 2-core machine: generous.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

MARK = "sluice-compat-marker"


def echo(name: str, text: str, code: int = 0) -> dict:
    return {
        "name": name,
        "container": {"image": "busybox:1.36", "command": ["sh", "-c", f"echo {text}; exit {code}"]},
    }


def steps(*groups: list[tuple[str, str]]) -> dict:
    return {"name": "main", "steps": [[{"name": n, "template": t} for n, t in g] for g in groups]}


@pytest.fixture(scope="module")
def ns(kubectl):
    yield from fresh_namespace(kubectl, "sluice-argocli")


@pytest.fixture(scope="module")
def instance() -> str:
    return f"argocli-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def argo(kubeconfig: Path, ns: str, instance: str) -> ArgoCLI:
    return ArgoCLI(built("cli") / "bin" / "argo", kubeconfig, ns, instance)


@pytest.fixture(scope="module")
def controller(kubeconfig: Path, kubectl, ns: str, instance: str, tmp_path_factory):
    grant_executor(kubectl, ns)
    with running_controller(kubeconfig, ns, instance, tmp_path_factory.mktemp("argocli")) as ctl:
        yield ctl


@pytest.fixture(scope="module")
def runs(kubectl, ns: str, instance: str, controller, argo) -> dict[str, str]:
    """Four workflows created at once: two steps that succeed, a step that fails, a step whose input
    cannot be resolved (no pod), a suspend gate (Running until the namespace goes)."""
    tag = uuid.uuid4().hex[:5]
    names = {"ok": f"ok-{tag}", "bad": f"bad-{tag}", "err": f"err-{tag}", "gate": f"gate-{tag}"}
    specs = {
        "ok": {
            "entrypoint": "main",
            "templates": [steps([("first", "say")], [("second", "say")]), echo("say", MARK)],
        },
        "bad": {
            "entrypoint": "main",
            "templates": [steps([("boom", "fail")]), echo("fail", "going-down", 3)],
        },
        "err": {
            "entrypoint": "main",
            "templates": [
                steps([("lookup", "read")]),
                {
                    "name": "read",
                    "inputs": {
                        "parameters": [
                            {
                                "name": "p",
                                "valueFrom": {"configMapKeyRef": {"name": "no-such-cm", "key": "k"}},
                            }
                        ]
                    },
                    "container": {"image": "busybox:1.36", "command": ["echo", "{{inputs.parameters.p}}"]},
                },
            ],
        },
        "gate": {
            "entrypoint": "main",
            "templates": [steps([("approve", "wait")]), {"name": "wait", "suspend": {}}],
        },
    }
    for key, name in names.items():
        kubectl("create", "-n", ns, "-f", "-", input=json.dumps(workflow(name, instance, specs[key])))
    return names


def test_argo_wait_returns_when_the_workflow_is_done(argo, kubectl, ns, runs):
    proc = argo.run("wait", runs["ok"], timeout=300)
    assert f"{runs['ok']} Succeeded" in proc.stdout, proc.stdout
    # `argo wait` returned because the workflow is complete, as kubectl sees it.
    assert get_wf(kubectl, ns, runs["ok"])["status"]["phase"] == "Succeeded"
    # A failed workflow: printed with its phase, and the CLI exits 1.
    proc = argo.run("wait", runs["bad"], timeout=300, check=False)
    assert proc.returncode == 1 and f"{runs['bad']} Failed" in proc.stdout, (proc.stdout, proc.stderr)


def test_argo_list_shows_each_workflow_with_its_phase(argo, kubectl, ns, runs):
    wait_done(kubectl, ns, runs["ok"], timeout=600)
    wait_done(kubectl, ns, runs["bad"], timeout=600)
    eventually(
        lambda: get_wf(kubectl, ns, runs["gate"]).get("status", {}).get("phase") == "Running",
        300,
        1,
        "the gate's workflow running",
    )
    out = argo.run("list").stdout
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if line.strip()}
    assert rows.get(runs["ok"]) == "Succeeded", out
    assert rows.get(runs["bad"]) == "Failed", out
    assert rows.get(runs["gate"]) == "Running", out
    names = argo.run("list", "--running", "-o", "name").stdout.split()
    assert names == [runs["gate"]], names


@pytest.mark.parametrize("key", ["ok", "bad"])
def test_argo_get_json_matches_the_status_sluice_wrote(argo, kubectl, ns, runs, key):
    name = runs[key]
    ours = wait_done(kubectl, ns, name, timeout=600)
    theirs = json.loads(argo.run("get", name, "-o", "json").stdout)
    assert theirs["metadata"]["name"] == name
    status, mine = theirs["status"], ours["status"]
    assert status["phase"] == mine["phase"] == ("Succeeded" if key == "ok" else "Failed")
    assert set(status["nodes"]) == set(mine["nodes"])
    for node_id, node in mine["nodes"].items():
        seen = status["nodes"][node_id]
        for field in ("name", "displayName", "type", "phase", "templateName", "children", "boundaryID"):
            assert seen.get(field) == node.get(field), (node_id, field, seen.get(field), node.get(field))
    pods = [n for n in status["nodes"].values() if n["type"] == "Pod"]
    assert len(pods) == (2 if key == "ok" else 1)
    if key == "bad":
        assert pods[0]["phase"] == "Failed" and pods[0]["outputs"]["exitCode"] == "3", pods[0]


def test_argo_get_prints_the_tree(argo, kubectl, ns, runs):
    wait_done(kubectl, ns, runs["ok"], timeout=600)
    out = argo.run("get", runs["ok"]).stdout
    assert re.search(r"^Status:\s+Succeeded$", out, re.M), out
    assert re.search(r"^Progress:\s+2/2$", out, re.M), out
    # The tree: the root, then each step under its group, each a ✔ with its pod.
    tree = out[out.index("STEP") :]
    assert f"✔ {runs['ok']}" in tree, tree
    for step in ("first", "second"):
        assert re.search(rf"✔ {step}\s+say\s+{runs['ok']}-say-\d+", tree), tree
    bad = argo.run("get", runs["bad"]).stdout
    assert re.search(r"^Status:\s+Failed$", bad, re.M), bad
    assert re.search(r"✖ boom\s+fail", bad), bad
    # A step whose input cannot be resolved (its ConfigMap is missing): an Error node (⚠) with the
    # reason, and no pod.
    wait_done(kubectl, ns, runs["err"], timeout=600)
    err = argo.run("get", runs["err"]).stdout
    assert re.search(r"⚠ lookup\s+read\s+inputs\.parameters\.p ", err), err
    assert re.search(r"^Progress:\s+0/0$", err, re.M), err


def test_argo_get_shows_the_suspend_gate(argo, kubectl, ns, runs):
    def suspended():
        node = list((get_wf(kubectl, ns, runs["gate"]).get("status") or {}).get("nodes", {}).values())
        return any(n["type"] == "Suspend" and n["phase"] == "Running" for n in node)

    eventually(suspended, 300, 1, "the gate's Suspend node running")
    out = argo.run("get", runs["gate"]).stdout
    assert re.search(r"^Status:\s+Running \(Suspended\)$", out, re.M), out
    assert re.search(r"approve\s+wait", out), out


def test_argo_logs_prints_the_pods_output(argo, kubectl, ns, runs):
    wait_done(kubectl, ns, runs["ok"], timeout=600)
    out = argo.run("logs", runs["ok"], timeout=300).stdout
    lines = [line for line in out.splitlines() if MARK in line]
    # One line per step's pod, each prefixed with its pod's name.
    assert len(lines) == 2, out
    assert all(line.startswith(f"{runs['ok']}-say-") for line in lines), out
    bad = argo.run("logs", runs["bad"], timeout=300).stdout
    assert "going-down" in bad, bad


def test_argocd_health_reads_our_status(kubectl, ns, runs):
    """Argo CD's own verdicts (its pinned gitops-engine pkg/health) on the Workflows as read from the
    cluster: Running (and suspended) is Progressing, Succeeded Healthy, Failed and Error Degraded, with
    the workflow's message."""
    done = {key: wait_done(kubectl, ns, runs[key], timeout=600) for key in ("ok", "bad", "err")}
    assert done["err"]["status"]["phase"] in ("Failed", "Error"), done["err"]["status"]
    eventually(
        lambda: get_wf(kubectl, ns, runs["gate"]).get("status", {}).get("phase") == "Running",
        300,
        1,
        "gate running",
    )
    objects = [done["ok"], done["bad"], done["err"], get_wf(kubectl, ns, runs["gate"])]
    verdicts = argocd_health(objects)
    assert [v["status"] for v in verdicts] == ["Healthy", "Degraded", "Degraded", "Progressing"], verdicts
    for obj, verdict in zip(objects, verdicts, strict=True):
        assert verdict["message"] == (obj["status"].get("message") or ""), (verdict, obj["status"])
