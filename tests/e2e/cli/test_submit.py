"""`sluice submit`, `get`, `list`, `wait`, `watch` and `template` against the real kube-apiserver
(sluice/commands/submit.py, get.py, list.py, wait.py, template.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import yaml

from .support import LABEL, REPO, get, set_status, suspended_at_gate, workflow_file


def test_submit_from_a_file_then_get_list_and_json(sluice, kubectl, ns, tmp_path):
    path = workflow_file(tmp_path, "from-file", arguments={"parameters": [{"name": "who", "value": "a"}]})
    result = sluice("submit", str(path), "-p", "who=b", "-l", "team=cli", "-o", "json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    stored = get(kubectl, ns, "from-file")
    assert created["metadata"]["uid"] == stored["metadata"]["uid"]
    assert stored["spec"]["arguments"]["parameters"] == [{"name": "who", "value": "b"}]
    assert stored["metadata"]["labels"]["team"] == "cli"

    suspended_at_gate(kubectl, ns, "from-file")
    tree = sluice("get", "from-file")
    assert tree.returncode == 0, tree.stderr
    assert "Name:     from-file" in tree.stdout and "Status:   Running" in tree.stdout
    assert "  ● approve" in tree.stdout and "who: b" in tree.stdout
    as_json = sluice("get", "from-file", "-o", "json")
    assert json.loads(as_json.stdout)["status"]["nodes"]["from-file-1"]["displayName"] == "approve"

    listed = sluice("list", "-l", "team=cli")
    assert listed.returncode == 0 and listed.stdout.splitlines()[0].split()[:3] == ["NAME", "STATUS", "AGE"]
    assert listed.stdout.splitlines()[1].split()[:2] == ["from-file", "Running"]
    assert "from-file" in sluice("list", "--running", "-o", "name").stdout.split()
    assert "from-file" not in sluice("list", "--completed", "-o", "name").stdout.split()
    assert sluice("list", "--prefix", "from-", "-o", "name").stdout.split() == ["from-file"]
    assert sluice("list", "--prefix", "to-", "-o", "name").stdout.split() == []


def test_invalid_workflows_are_one_line_with_every_field_path_and_exit_1(sluice, ns, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"generateName": "bad-"},
                "spec": {"entrypoint": 5, "templates": "not-a-list", "parallelism": "x"},
            }
        )
    )
    result = sluice("submit", str(path))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sluice submit: 422 Invalid: "), lines
    for field in ("spec.entrypoint", "spec.templates", "spec.parallelism"):
        assert field in lines[0]
    assert sluice("get", "no-such-workflow").returncode == 3


def test_submit_from_a_workflow_template_and_template_verbs(sluice, kubectl, ns, tmp_path):
    tmpl = tmp_path / "tmpl.yaml"
    tmpl.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "WorkflowTemplate",
                "metadata": {"name": "greeter"},
                "spec": {
                    "entrypoint": "main",
                    "arguments": {"parameters": [{"name": "who", "value": "x"}]},
                    "templates": [{"name": "main", "suspend": {}}],
                },
            }
        )
    )
    lint = subprocess.run(
        [sys.executable, "-m", "sluice", "template", "lint", str(tmpl)], cwd=REPO, timeout=60
    )
    assert lint.returncode == 0  # offline, as `sluice lint`
    created = sluice("template", "create", str(tmpl))
    assert created.returncode == 0, created.stderr
    assert sluice("template", "list").stdout.splitlines()[1].split()[0] == "greeter"
    assert yaml.safe_load(sluice("template", "get", "greeter").stdout)["spec"]["entrypoint"] == "main"

    result = sluice("submit", "--from", "workflowtemplate/greeter", "-p", "who=y", "-l", LABEL, "-o", "name")
    assert result.returncode == 0, result.stderr
    wf = get(kubectl, ns, result.stdout.strip())
    assert wf["metadata"]["name"].startswith("greeter-")
    assert wf["spec"]["workflowTemplateRef"] == {"name": "greeter"}
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "who", "value": "y"}]
    assert wf["metadata"]["labels"]["workflows.argoproj.io/workflow-template"] == "greeter"

    assert sluice("template", "delete", "greeter").returncode == 0
    assert sluice("template", "get", "greeter").returncode == 3


def test_server_dry_run_stores_nothing(sluice, kubectl, ns, tmp_path):
    result = sluice("submit", str(workflow_file(tmp_path, "dry")), "--server-dry-run", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "dry"
    assert "workflow.argoproj.io/dry" not in kubectl("get", "workflows", "-n", ns, "-o", "name").split()


def test_wait_exit_code_follows_the_phase(sluice, kubectl, ns, tmp_path):
    for name, phase, code in (
        ("ends-ok", "Succeeded", 0),
        ("ends-failed", "Failed", 1),
        ("ends-error", "Error", 1),
    ):
        assert sluice("submit", str(workflow_file(tmp_path, name))).returncode == 0
        set_status(kubectl, ns, name, {"phase": phase, "finishedAt": "2026-12-06T06:01:00Z"})
        result = sluice("wait", name)
        assert result.returncode == code, (name, result.stdout, result.stderr)
        assert result.stdout.startswith(f"{name} {phase}")
    # still running after --timeout: exit 1
    assert sluice("submit", str(workflow_file(tmp_path, "still"))).returncode == 0
    assert sluice("wait", "still", "--timeout", "2").returncode == 1
    # watch draws the tree and follows the phase too
    watched = sluice("watch", "ends-failed")
    assert (
        watched.returncode == 1
        and "Name:     ends-failed" in watched.stdout
        and "Status:   Failed" in watched.stdout
    )
    assert sluice("watch", "ends-ok").returncode == 0


def test_submit_wait_returns_when_the_workflow_fails(sluice, kubectl, ns, tmp_path, kubeconfig):
    path = workflow_file(tmp_path, "waited")
    proc = sluice.popen("submit", str(path), "--wait")
    try:
        deadline = time.monotonic() + 60
        while "waited" not in kubectl("get", "workflows", "-n", ns, "-o", "name"):
            assert time.monotonic() < deadline, "the workflow was never created"
            time.sleep(0.2)
        set_status(kubectl, ns, "waited", {"phase": "Failed", "message": "child failed"})
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert "waited Failed: child failed" in out
