"""The three example policies (policies/) enforced by a running webhook over HTTPS, including for a
container hidden in a referenced template; and `sluice policy test` on the same files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_webhook_support import WebhookProcess, review

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"

GOOD = {
    "image": "registry.corp.example/tools:1",
    "command": ["echo", "hi"],
    "resources": {"limits": {"memory": "128Mi"}},
}
LIBRARY = [
    {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "lib", "namespace": "team"},
        "spec": {
            "templates": [
                {
                    "name": "hidden",
                    "container": {
                        "image": "docker.io/library/evil:1",
                        "command": ["sh"],
                        "resources": {"limits": {"memory": "1Gi"}},
                    },
                },
                {
                    "name": "no-limits",
                    "container": {"image": "registry.corp.example/app:2", "command": ["app"]},
                },
                {
                    "name": "host",
                    "container": {**GOOD, "volumeMounts": [{"name": "root", "mountPath": "/host"}]},
                    "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                },
                {"name": "privileged", "container": {**GOOD, "securityContext": {"privileged": True}}},
                {"name": "fine", "container": GOOD},
            ]
        },
    },
]


def workflow(template_ref=None, *, name="wf", container=None, **spec):
    if template_ref:
        main = {
            "name": "main",
            "steps": [[{"name": "s", "templateRef": {"name": "lib", "template": template_ref}}]],
        }
    else:
        main = {"name": "main", "container": container or GOOD}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"entrypoint": "main", "templates": [main], **spec},
    }


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policies")
    templates = tmp / "templates"
    templates.mkdir()
    (templates / "lib.yaml").write_text(yaml.safe_dump_all(LIBRARY))
    with WebhookProcess(tmp, templates=templates, policies=POLICIES) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(webhook):
    c = webhook.client()
    yield c
    c.close()


def validate(client, obj, namespace="team", kind="Workflow"):
    status, answer = client.post("/validate", review(obj, kind=kind, namespace=namespace))
    assert status == 200
    return answer["response"]


def causes(response):
    return [(c["field"], c["message"]) for c in response["status"]["details"]["causes"]]


def test_a_compliant_workflow_is_allowed_without_warnings(client):
    response = validate(client, workflow("fine"))
    assert response["allowed"] is True and "warnings" not in response, response


def test_an_image_hidden_in_a_referenced_template_is_denied(client):
    response = validate(client, workflow("hidden"))
    assert response["allowed"] is False
    assert causes(response) == [
        (
            "spec.templates",
            "policy allowed-registries: image docker.io/library/evil:1 (WorkflowTemplate/lib:spec.templates[0].container)"
            " is not from registry.corp.example/ or quay.io/argoproj/",
        )
    ]
    assert response["status"]["code"] == 422


def test_a_local_image_from_elsewhere_is_denied_too(client):
    response = validate(client, workflow(container={**GOOD, "image": "ghcr.io/x/y:1"}))
    assert response["allowed"] is False
    assert "image ghcr.io/x/y:1" in causes(response)[0][1]


def test_missing_memory_limits_warn_and_admit(client):
    response = validate(client, workflow("no-limits"))
    assert response["allowed"] is True
    assert response["warnings"] == [
        "spec.templates: policy memory-limits: container main (WorkflowTemplate/lib:spec.templates[1].container)"
        " has no memory limit (resources.limits.memory)"
    ]


def test_memory_limits_are_not_checked_in_an_excluded_namespace(client):
    wf = workflow(container={"image": "registry.corp.example/app:2", "command": ["app"]})
    wf["metadata"]["namespace"] = "sandbox"
    response = validate(client, wf, namespace="sandbox")
    assert response["allowed"] is True and "warnings" not in response, response
    assert "warnings" in validate(client, workflow(container={"image": "registry.corp.example/app:2"}))


def test_host_path_in_a_referenced_template_is_denied(client):
    response = validate(client, workflow("host"))
    assert response["allowed"] is False
    assert causes(response) == [
        (
            "spec.templates",
            "policy no-host-path: template host mounts a hostPath volume; hostPath volumes are not allowed",
        )
    ]


def test_host_path_in_a_cron_workflow_and_in_pod_spec_patch(client):
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "c", "namespace": "team"},
        "spec": {
            "schedules": ["0 * * * *"],
            "workflowSpec": {
                "entrypoint": "main",
                "templates": [{"name": "main", "container": GOOD}],
                "volumes": [{"name": "h", "hostPath": {"path": "/var/run"}}],
                "podSpecPatch": '{"volumes": [{"name": "x", "hostPath": {"path": "/"}}]}',
            },
        },
    }
    response = validate(client, cron, kind="CronWorkflow")
    assert response["allowed"] is False
    assert [f for f, _ in causes(response)] == ["spec.volumes", "spec.podSpecPatch"]


def test_a_privileged_container_is_audited_not_denied(client):
    response = validate(client, workflow("privileged"))
    assert response["allowed"] is True
    assert response["auditAnnotations"] == {
        "policy-no-host-path-3": "a container runs privileged (recorded in the audit log)"
    }


def test_templates_themselves_are_checked(client):
    tmpl = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterWorkflowTemplate",
        "metadata": {"name": "ct"},
        "spec": {"templates": [{"name": "t", "container": {**GOOD, "image": "docker.io/x"}}]},
    }
    response = validate(client, tmpl, namespace=None, kind="ClusterWorkflowTemplate")
    assert response["allowed"] is False and "image docker.io/x" in causes(response)[0][1]


def test_policy_violations_are_counted_in_metrics(client):
    validate(client, workflow("hidden"))
    text = client.request("GET", "/metrics")[1].decode()
    assert (
        'sluice_webhook_policy_violations_total{action="Deny",dry_run="false",policy="allowed-registries"}'
        in text
    )
    assert 'sluice_webhook_denials_total{kind="Workflow",reason="policy"}' in text


def test_sluice_policy_test_offline(tmp_path):
    lib = tmp_path / "lib.yaml"
    lib.write_text(yaml.safe_dump_all(LIBRARY))
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(workflow("hidden")))
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(workflow("no-limits", name="ok")))

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "sluice", "policy", "test", *map(str, args)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    denied = run(POLICIES / "allowed-registries.yaml", bad, "--templates", lib)
    assert denied.returncode == 1, denied.stderr
    assert (
        "Workflow/wf: denied: spec.templates: policy allowed-registries: image docker.io/library/evil:1"
        in denied.stdout
    )
    allowed = run(POLICIES, good, "--templates", lib)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Workflow/ok: allowed" in allowed.stdout
    assert "warning: spec.templates: policy memory-limits: container main" in allowed.stdout
