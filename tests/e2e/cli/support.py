"""What the CLI's e2e tests share (tests/e2e/cli/): workflow files, status written as a controller would,
service-account kubeconfigs with the shipped roles, and the approval-gate workflow.

No controller runs the workflows of most tests: they carry a controller instance ID no controller has
(an installed controller ignores them), and where a test needs a phase or a waiting suspend node it
writes the status itself through the status subresource. So those tests show what the CLI sends and
reads, quickly and without depending on pods being run. The tests marked "with the controller" run a
local `sluice controller` confined to their namespace (tests/e2e/controller_support.py)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..controller_support import eventually

REPO = Path(__file__).resolve().parents[3]
INSTANCE = "sluice-cli-e2e-nobody"  # no controller has this instance ID
LABEL = f"workflows.argoproj.io/controller-instanceid={INSTANCE}"


def workflow_file(tmp_path: Path, name: str, **spec) -> Path:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "labels": {"workflows.argoproj.io/controller-instanceid": INSTANCE}},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "suspend": {},
                    "outputs": {"parameters": [{"name": "answer", "valueFrom": {"supplied": {}}}]},
                }
            ],
            **spec,
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def get(kubectl, ns, name, kind="workflow"):
    return json.loads(kubectl("get", kind, name, "-n", ns, "-o", "json"))


def set_status(kubectl, ns, name, status):
    kubectl(
        "patch",
        "workflow",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )


def suspended_at_gate(kubectl, ns, name):
    """The status a controller writes while the workflow waits on its `approve` suspend node."""
    set_status(
        kubectl,
        ns,
        name,
        {
            "phase": "Running",
            "startedAt": "2026-12-06T06:00:00Z",
            "nodes": {
                name: {
                    "id": name,
                    "name": name,
                    "displayName": name,
                    "type": "Steps",
                    "phase": "Running",
                    "templateName": "main",
                    "children": [f"{name}-1"],
                },
                f"{name}-1": {
                    "id": f"{name}-1",
                    "name": f"{name}[0].approve",
                    "displayName": "approve",
                    "type": "Suspend",
                    "phase": "Running",
                    "boundaryID": name,
                    "templateName": "gate",
                    "startedAt": "2026-12-06T06:00:00Z",
                    "outputs": {"parameters": [{"name": "answer", "valueFrom": {"supplied": {}}}]},
                },
            },
        },
    )


def service_account_kubeconfig(
    kubectl, kubeconfig: Path, ns: str, account: str, rules: list, out: Path
) -> Path:
    kubectl("create", "serviceaccount", account, "-n", ns)
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": account, "namespace": ns},
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": account, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
    }
    kubectl("apply", "-f", "-", input=yaml.safe_dump_all([role, binding]))
    token = kubectl("create", "token", account, "-n", ns, "--duration=15m").strip()
    admin = yaml.safe_load(kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    out.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "current-context": account,
                "contexts": [
                    {
                        "name": account,
                        "context": {"cluster": cluster["name"], "user": account, "namespace": ns},
                    }
                ],
                "users": [{"name": account, "user": {"token": token}}],
            }
        )
    )
    return out


GATE_SPEC = {
    "entrypoint": "main",
    "templates": [
        {
            "name": "main",
            "steps": [
                [{"name": "approve", "template": "gate"}],
                [
                    {
                        "name": "after",
                        "template": "echo",
                        "arguments": {
                            "parameters": [
                                {"name": "v", "value": "{{steps.approve.outputs.parameters.answer}}"}
                            ]
                        },
                    }
                ],
            ],
        },
        {
            "name": "gate",
            "suspend": {},
            "outputs": {"parameters": [{"name": "answer", "valueFrom": {"supplied": {}}}]},
        },
        {"name": "echo", "inputs": {"parameters": [{"name": "v"}]}, "suspend": {"duration": "0"}},
    ],
}


def gate_file(tmp_path: Path, name: str, instance: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {
                    "name": name,
                    "labels": {"workflows.argoproj.io/controller-instanceid": instance},
                },
                "spec": GATE_SPEC,
            }
        )
    )
    return path


def waiting_gate(kubectl, ns, name):
    def check():
        nodes = (get(kubectl, ns, name).get("status") or {}).get("nodes") or {}
        return any(
            n["displayName"] == "approve" and n["type"] == "Suspend" and n["phase"] == "Running"
            for n in nodes.values()
        )

    eventually(check, 300, 0.5, f"{name} waiting at its gate")


def step_pod(workflow: str, node_id: str, script: str) -> dict:
    """A busybox pod standing for a workflow's step (its labels and node annotation, as the controller's
    pods carry), running `script`: what `logs` reads, without a controller."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": node_id,
            "labels": {"workflows.argoproj.io/workflow": workflow},
            "annotations": {"workflows.argoproj.io/node-id": node_id},
        },
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", script],
                }
            ],
        },
    }
