"""A policy edited into invalid CEL keeps its last good version in force and is counted in
sluice_webhook_policies_refused (issue 13 item 8: it was silently dropped, failing open)."""

from __future__ import annotations

import time

import yaml
from test_webhook_support import WebhookProcess, review


def policy(expression: str) -> dict:
    return {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": "no-foo"},
        "spec": {"validations": [{"expression": expression, "message": "no foo label"}]},
    }


def wf(labels: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "default", "labels": labels},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "alpine", "command": ["true"]}}],
        },
    }


def refused(client) -> float:
    _, body = client.request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith("sluice_webhook_policies_refused "):
            return float(line.split()[1])
    raise AssertionError("no sluice_webhook_policies_refused")


def test_an_invalid_edit_keeps_the_last_good_version(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    path = policies / "no-foo.yaml"
    path.write_text(yaml.safe_dump(policy("!has(object.metadata.labels.foo)")))
    with WebhookProcess(tmp_path, policies=policies) as proc:
        client = proc.client()
        status, body = client.post("/validate", review(wf({"foo": "1"})))
        assert body["response"]["allowed"] is False
        assert refused(client) == 0
        path.write_text(yaml.safe_dump(policy("object.metadata.labels.(((")))  # does not compile
        deadline = time.monotonic() + 60
        while refused(client) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # the files are polled every 0.2 s
        assert refused(client) == 1
        status, body = client.post("/validate", review(wf({"foo": "1"})))
        assert body["response"]["allowed"] is False  # still enforced, not dropped
        assert "no foo label" in body["response"]["status"]["message"]
        assert "policy refused" in proc.log_text()
        path.write_text(yaml.safe_dump(policy("!has(object.metadata.labels.bar)")))  # fixed: the new one wins
        while refused(client) == 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert refused(client) == 0
        status, body = client.post("/validate", review(wf({"foo": "1"})))
        assert body["response"]["allowed"] is True
