"""The webhook registered with a real API server.

`sluice webhook --kubeconfig` runs on this host (the API server reaches it at https://127.0.0.1, the
only traffic is on loopback) with informers on the cluster, its certificates in a Secret and the
caBundle patched into two webhook configurations that it did not create. Those configurations are
scoped to this test's namespace (and to WorkflowPolicies carrying this test's label), so nothing
else on the cluster is affected, and they are deleted first on teardown.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check, seconds: float = 60, every: float = 0.5):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        time.sleep(every)
    raise AssertionError(f"not true within {seconds}s: {last}")


@pytest.fixture(scope="module")
def crds(kubectl):
    kubectl(
        "apply",
        "--server-side",
        "--field-manager=sluice-e2e-crds",
        "--force-conflicts",
        "-k",
        str(REPO / "crds"),
        timeout=300,
    )
    kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=120s",
        "crd/workflows.argoproj.io",
        "crd/workflowtemplates.argoproj.io",
        "crd/workflowpolicies.sluice.dev",
        timeout=150,
    )


def webhook_configurations(name: str, namespace: str, port: int, label: str) -> str:
    scope = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    argo = {
        "apiGroups": ["argoproj.io"],
        "apiVersions": ["v1alpha1"],
        "resources": ["workflows", "workflowtemplates", "cronworkflows"],
    }
    common = {"admissionReviewVersions": ["v1"], "sideEffects": "None", "timeoutSeconds": 5}
    validating = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "validate.sluice.dev",
                **common,
                "failurePolicy": "Fail",
                **scope,
                "clientConfig": {"url": f"https://127.0.0.1:{port}/validate"},
                "rules": [{**argo, "operations": ["CREATE", "UPDATE"]}],
            },
            {
                "name": "policies.sluice.dev",
                **common,
                "failurePolicy": "Fail",
                "objectSelector": {"matchLabels": {"sluice-e2e": label}},
                "clientConfig": {"url": f"https://127.0.0.1:{port}/validate"},
                "rules": [
                    {
                        "apiGroups": ["sluice.dev"],
                        "apiVersions": ["v1alpha1"],
                        "resources": ["workflowpolicies"],
                        "operations": ["CREATE", "UPDATE"],
                    }
                ],
            },
        ],
    }
    mutating = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "mutate.sluice.dev",
                **common,
                "failurePolicy": "Ignore",
                **scope,
                "reinvocationPolicy": "Never",
                "clientConfig": {"url": f"https://127.0.0.1:{port}/mutate"},
                "rules": [{**argo, "operations": ["CREATE"]}],
            }
        ],
    }
    return yaml.safe_dump_all([validating, mutating])


@pytest.fixture(scope="module")
def webhook(kubectl, kubeconfig, crds, namespace, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webhook-e2e")
    label = uuid.uuid4().hex[:8]
    name = f"sluice-e2e-{label}"
    port = free_port()
    kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "sluice-workflow-defaults"},
                "data": {"workflowDefaults": yaml.safe_dump({"spec": {"activeDeadlineSeconds": 600}})},
            }
        ),
    )
    log = tmp / "webhook.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sluice",
            "webhook",
            "--kubeconfig",
            str(kubeconfig),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--cert-dir",
            str(tmp / "certs"),
            "--namespace",
            namespace,
            "--cert-secret",
            "sluice-webhook-tls",
            "--webhook-configurations",
            name,
            "--poll-seconds",
            "1",
            "--shutdown-grace",
            "0",
            "--log-format",
            "json",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        kubectl("apply", "-f", "-", input=webhook_configurations(name, namespace, port, label))

        def ca_bundle_patched():
            assert proc.poll() is None, log.read_text()[-3000:]
            out = kubectl(
                "get",
                "validatingwebhookconfiguration",
                name,
                "-o",
                "jsonpath={.webhooks[*].clientConfig.caBundle}",
            )
            return len(out.split()) == 2

        eventually(ca_bundle_patched, 90)
        yield {"name": name, "label": label, "namespace": namespace, "proc": proc, "log": log}
    finally:
        kubectl(
            "delete",
            "validatingwebhookconfiguration,mutatingwebhookconfiguration",
            name,
            "--ignore-not-found",
            check=False,
        )
        kubectl("delete", "workflowpolicy", "-l", f"sluice-e2e={label}", "--ignore-not-found", check=False)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def apply(kubectl, namespace, doc, *extra):
    return subprocess_kubectl(kubectl, "apply", "-n", namespace, *extra, "-f", "-", input=yaml.safe_dump(doc))


def subprocess_kubectl(kubectl, *args, input=None):
    """kubectl that returns (returncode, stdout, stderr) instead of raising."""
    try:
        return 0, kubectl(*args, input=input), ""
    except AssertionError as exc:
        return 1, "", str(exc)


def calling(name: str, template: str, entry: str) -> dict:
    """A Workflow whose one step calls `entry` of the WorkflowTemplate `template`."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "s", "templateRef": {"name": template, "template": entry}}]],
                }
            ],
        },
    }


def apply_template(kubectl, namespace: str, name: str, template: dict) -> None:
    """A WorkflowTemplate holding one template, applied (it must be admitted)."""
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name},
        "spec": {"templates": [template]},
    }
    kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(body))


INVALID = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "invalid"},
    "spec": {
        "entrypoint": "nope",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "a", "template": "echo", "dependencies": ["ghost"]},
                        {"name": "b", "template": "missing"},
                    ]
                },
            },
            {"name": "echo", "container": {"image": "busybox", "command": ["echo"]}},
        ],
    },
}


def test_the_certificate_secret_and_ca_bundle(webhook, kubectl):
    data = yaml.safe_load(
        kubectl("get", "secret", "sluice-webhook-tls", "-n", webhook["namespace"], "-o", "yaml")
    )["data"]
    assert {"ca.crt", "tls.crt", "tls.key", "ca.key"} <= set(data)
    bundles = kubectl(
        "get",
        "validatingwebhookconfiguration",
        webhook["name"],
        "-o",
        "jsonpath={.webhooks[*].clientConfig.caBundle}",
    ).split()
    assert set(bundles) == {data["ca.crt"]}
    assert base64.b64decode(data["ca.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")
    log = webhook["log"].read_text()
    assert "PRIVATE KEY" not in log


def test_kubectl_apply_of_an_invalid_workflow_is_refused_with_every_field_path(webhook, kubectl):
    code, _, err = apply(kubectl, webhook["namespace"], INVALID)
    assert code == 1
    # kubectl prints the Status's causes, one line per field.
    assert 'The Workflow "invalid" is invalid:' in err, err
    for path in (
        "spec.entrypoint",
        "spec.templates[0].dag.tasks[0].dependencies",
        "spec.templates[0].dag.tasks[1]",
    ):
        assert f"* {path}" in err, err
    code, _, _ = subprocess_kubectl(kubectl, "get", "workflow", "invalid", "-n", webhook["namespace"])
    assert code == 1  # nothing was stored


def test_dry_run_server_shows_warnings_and_the_defaulted_object(webhook, kubeconfig):
    wf = calling("later", "synced-later", "t")
    ns = webhook["namespace"]
    exe = str(REPO / ".cluster" / "bin" / "kubectl")
    # The kubectl fixture keeps only stdout; warnings are on stderr.
    proc = subprocess.run(
        [
            exe if Path(exe).exists() else "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "apply",
            "-n",
            ns,
            "--dry-run=server",
            "-o",
            "yaml",
            "-f",
            "-",
        ],
        input=yaml.safe_dump(wf),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning:" in proc.stderr and "synced-later" in proc.stderr
    out = yaml.safe_load(proc.stdout)
    assert out["spec"]["activeDeadlineSeconds"] == 600  # from the defaults ConfigMap
    assert out["metadata"]["labels"]["workflows.argoproj.io/creator"]  # from the request's user
    assert out["spec"]["templates"] == wf["spec"]["templates"]  # what the user wrote is untouched


def test_references_resolve_through_the_informer_cache(webhook, kubectl):
    ns = webhook["namespace"]
    echo = {
        "name": "echo",
        "inputs": {"parameters": [{"name": "msg"}]},
        "container": {
            "image": "docker.io/library/busybox",
            "command": ["echo"],
            "args": ["{{inputs.parameters.msg}}"],
        },
    }
    apply_template(kubectl, ns, "lib", echo)
    caller = calling("caller", "lib", "echo")

    def refused_for_the_missing_argument():
        code, _, err = apply(kubectl, ns, caller, "--dry-run=server")
        assert code == 1 and "msg" in err, err
        return True

    eventually(refused_for_the_missing_argument, 30)


def test_policies_from_the_cluster_see_containers_of_referenced_templates(webhook, kubectl):
    ns, label = webhook["namespace"], webhook["label"]
    # The template was there before the policy (the policy would refuse it now: it checks templates too).
    apply_template(
        kubectl,
        ns,
        "hidden",
        {"name": "t", "container": {"image": "docker.io/library/busybox", "command": ["true"]}},
    )
    bad = {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": f"e2e-broken-{label}", "labels": {"sluice-e2e": label}},
        "spec": {"validations": [{"expression": "containers.all(c,"}]},
    }
    code, _, err = apply(kubectl, ns, bad)
    assert code == 1 and "spec.validations[0].expression" in err, err
    policy = {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": f"e2e-registries-{label}", "labels": {"sluice-e2e": label}},
        "spec": {
            "match": {"namespaces": [ns]},
            "validations": [
                {
                    "expression": "containers.all(c, !c.image.startsWith('docker.io/'))",
                    "message": "no images from docker.io",
                }
            ],
        },
    }
    code, _, err = apply(kubectl, ns, policy)
    assert code == 0, err
    wf = calling("sneaky", "hidden", "t")

    def denied_by_policy():
        code, _, err = apply(kubectl, ns, wf, "--dry-run=server")
        assert code == 1 and f"policy e2e-registries-{label}: no images from docker.io" in err, err
        return True

    eventually(denied_by_policy, 30)

    # Deleting the policy reaches the webhook through its watch: the same workflow is admitted again.
    kubectl("delete", "workflowpolicy", f"e2e-registries-{label}")

    def admitted_again():
        code, _, err = apply(kubectl, ns, wf, "--dry-run=server")
        assert code == 0, err
        return True

    eventually(admitted_again, 30)
