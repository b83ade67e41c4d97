"""The `sluice` cluster verbs against the real kube-apiserver (sluice/commands/*, sluice/cluster.py).

Each test runs the CLI as a user would (`python -m sluice VERB ... --kubeconfig K -n NS`) in this module's
own namespace, deleted afterwards. No controller runs these workflows: they carry a controller
instance ID no controller has (an installed controller ignores them), and where a test needs a phase
or a waiting suspend node it writes the status itself through the status subresource, as a controller
would. So the tests show what the CLI sends and reads, quickly and without depending on pods being run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INSTANCE = "sluice-cli-e2e-nobody"  # no controller has this instance ID
LABEL = f"workflows.argoproj.io/controller-instanceid={INSTANCE}"


@pytest.fixture(scope="module")
def ns(kubectl) -> str:
    name = f"sluice-cli-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl(
        "wait",
        "--for=jsonpath={.metadata.name}=default",
        "serviceaccount/default",
        "-n",
        name,
        "--timeout=60s",
    )
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def sluice(kubeconfig, ns):
    def run(
        *argv: str, kubeconfig_path: Path | None = None, timeout: float = 60, namespace: str | None = None
    ):
        cmd = [
            sys.executable,
            "-m",
            "sluice",
            *argv,
            "--kubeconfig",
            str(kubeconfig_path or kubeconfig),
            "-n",
            namespace or ns,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)

    return run


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
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sluice",
            "submit",
            str(path),
            "--wait",
            "--kubeconfig",
            str(kubeconfig),
            "-n",
            ns,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
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


def test_suspend_resume_stop_terminate(sluice, kubectl, ns, tmp_path):
    assert sluice("submit", str(workflow_file(tmp_path, "ctl"))).returncode == 0
    assert sluice("suspend", "ctl").returncode == 0
    assert get(kubectl, ns, "ctl")["spec"]["suspend"] is True
    assert "Pending (Suspended)" in sluice("list").stdout
    resumed = sluice("resume", "ctl")
    assert resumed.returncode == 0, resumed.stderr
    assert "suspend" not in get(kubectl, ns, "ctl")["spec"]
    assert sluice("resume", "ctl").returncode == 1  # nothing suspended any more
    assert sluice("stop", "ctl").returncode == 0
    assert get(kubectl, ns, "ctl")["spec"]["shutdown"] == "Stop"
    assert sluice("terminate", "ctl").returncode == 0
    assert get(kubectl, ns, "ctl")["spec"]["shutdown"] == "Terminate"
    set_status(kubectl, ns, "ctl", {"phase": "Failed"})
    refused = sluice("stop", "ctl")
    assert refused.returncode == 1 and "already finished" in refused.stderr


def _service_account_kubeconfig(
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


def test_an_approver_resumes_a_suspend_node_through_the_status_subresource(
    sluice, kubectl, kubeconfig, ns, tmp_path
):
    assert sluice("submit", str(workflow_file(tmp_path, "gate"))).returncode == 0
    suspended_at_gate(kubectl, ns, "gate")
    # the rules of the roles the project ships (manifests/base/rbac-users.yaml), bound in this namespace
    shipped = {
        r["metadata"]["name"]: r["rules"]
        for r in yaml.safe_load_all((REPO / "manifests" / "base" / "rbac-users.yaml").read_text())
        if r
    }
    approver = _service_account_kubeconfig(
        kubectl, kubeconfig, ns, "approver", shipped["sluice-workflows-approve"], tmp_path / "approver"
    )
    editor = _service_account_kubeconfig(
        kubectl, kubeconfig, ns, "editor", shipped["sluice-workflows-edit"], tmp_path / "editor"
    )
    viewer = _service_account_kubeconfig(
        kubectl, kubeconfig, ns, "viewer", shipped["sluice-workflows-view"], tmp_path / "viewer"
    )

    # the approver may not edit the Workflow itself
    assert (
        kubectl(
            "auth",
            "can-i",
            "patch",
            "workflows.argoproj.io",
            "-n",
            ns,
            f"--as=system:serviceaccount:{ns}:approver",
            check=False,
        ).strip()
        == "no"
    )

    refused = sluice("resume", "gate", "--node", "approve", "-p", "answer=yes", kubeconfig_path=viewer)
    assert refused.returncode == 4, refused.stderr
    assert refused.stderr.startswith("sluice resume: 403 Forbidden") and len(refused.stderr.splitlines()) == 1
    assert get(kubectl, ns, "gate")["status"]["nodes"]["gate-1"]["phase"] == "Running"

    # an editor may change the Workflow but not resume its gate (no workflows/status)
    edited = sluice("resume", "gate", "--node", "approve", "-p", "answer=yes", kubeconfig_path=editor)
    assert edited.returncode == 4 and "403 Forbidden" in edited.stderr, edited.stderr
    assert get(kubectl, ns, "gate")["status"]["nodes"]["gate-1"]["phase"] == "Running"

    wrong = sluice("resume", "gate", "--node", "nope", kubeconfig_path=approver)
    assert wrong.returncode == 3 and "no waiting suspend node matching 'nope'" in wrong.stderr

    done = sluice("resume", "gate", "--node", "approve", "-p", "answer=yes", kubeconfig_path=approver)
    assert done.returncode == 0, done.stderr
    node = get(kubectl, ns, "gate")["status"]["nodes"]["gate-1"]
    assert node["phase"] == "Succeeded" and node["finishedAt"]
    assert node["outputs"]["parameters"][0]["value"] == "yes"
    assert (
        get(kubectl, ns, "gate")["status"]["nodes"]["gate"]["phase"] == "Running"
    )  # the controller's to end


def test_retry_resets_the_failed_nodes_and_resubmit_makes_a_new_workflow(sluice, kubectl, ns, tmp_path):
    assert sluice("submit", str(workflow_file(tmp_path, "flaky"))).returncode == 0
    set_status(
        kubectl,
        ns,
        "flaky",
        {
            "phase": "Failed",
            "message": "child 'b' failed",
            "startedAt": "2026-12-06T06:00:00Z",
            "finishedAt": "2026-12-06T06:01:00Z",
            "nodes": {
                "flaky": {
                    "id": "flaky",
                    "name": "flaky",
                    "displayName": "flaky",
                    "type": "Steps",
                    "phase": "Failed",
                    "children": ["flaky-0"],
                },
                "flaky-0": {
                    "id": "flaky-0",
                    "name": "flaky[0]",
                    "displayName": "[0]",
                    "type": "StepGroup",
                    "phase": "Failed",
                    "boundaryID": "flaky",
                    "children": ["flaky-a", "flaky-b"],
                },
                "flaky-a": {
                    "id": "flaky-a",
                    "name": "flaky[0].a",
                    "displayName": "a",
                    "type": "Pod",
                    "phase": "Succeeded",
                    "boundaryID": "flaky",
                },
                "flaky-b": {
                    "id": "flaky-b",
                    "name": "flaky[0].b",
                    "displayName": "b",
                    "type": "Pod",
                    "phase": "Failed",
                    "boundaryID": "flaky",
                },
            },
        },
    )
    kubectl(
        "patch",
        "workflow",
        "flaky",
        "-n",
        ns,
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}}}),
    )
    for node_id in ("flaky-a", "flaky-b"):  # the pods of both steps (a controller's labels and annotations)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": node_id,
                "labels": {"workflows.argoproj.io/workflow": "flaky"},
                "annotations": {"workflows.argoproj.io/node-id": node_id},
            },
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:1.36",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["true"],
                    }
                ],
            },
        }
        kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    result = sluice("retry", "flaky")
    assert result.returncode == 0, result.stderr
    # the failed step's pod is deleted so the controller can run it again; the succeeded one stays
    pods = json.loads(
        kubectl("get", "pods", "-n", ns, "-l", "workflows.argoproj.io/workflow=flaky", "-o", "json")
    )
    live = {p["metadata"]["name"] for p in pods["items"] if not p["metadata"].get("deletionTimestamp")}
    assert live == {"flaky-a"}
    wf = get(kubectl, ns, "flaky")
    assert wf["status"]["phase"] == "Running" and "finishedAt" not in wf["status"]
    assert set(wf["status"]["nodes"]) == {"flaky", "flaky-0", "flaky-a"}
    assert wf["status"]["nodes"]["flaky-0"]["phase"] == "Running"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "false"
    again = sluice("retry", "flaky")
    assert again.returncode == 1 and "only a Failed or Error workflow" in again.stderr

    resub = sluice("resubmit", "flaky", "-o", "name")
    assert resub.returncode == 0, resub.stderr
    new = get(kubectl, ns, resub.stdout.strip())
    assert new["metadata"]["name"].startswith("flaky-")
    assert new["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"] == "flaky"
    assert new["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == INSTANCE


def test_delete_completed_keeps_the_running_ones(sluice, kubectl, tmp_path, kubeconfig):
    own = f"sluice-cli-del-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", own)
    try:
        for name, phase in (("d-ok", "Succeeded"), ("d-bad", "Failed"), ("d-run", "Running")):
            assert sluice("submit", str(workflow_file(tmp_path, name)), namespace=own).returncode == 0
            set_status(kubectl, own, name, {"phase": phase})
        result = sluice("delete", "--completed", namespace=own)
        assert result.returncode == 0, result.stderr
        assert sorted(result.stdout.split("\n")[:-1]) == [
            "workflow.argoproj.io/d-bad deleted",
            "workflow.argoproj.io/d-ok deleted",
        ]
        left = kubectl("get", "workflows", "-n", own, "-o", "name").split()
        assert left == ["workflow.argoproj.io/d-run"]
        assert sluice("delete", "d-run", namespace=own).returncode == 0
        assert sluice("delete", "d-run", namespace=own).returncode == 3
    finally:
        kubectl("delete", "namespace", own, "--wait=false", check=False)


@pytest.mark.timeout(900)
def test_logs_follow_a_running_step(sluice, kubectl, ns, tmp_path, kubeconfig):
    assert sluice("submit", str(workflow_file(tmp_path, "logged"))).returncode == 0
    set_status(
        kubectl,
        ns,
        "logged",
        {
            "phase": "Running",
            "nodes": {
                "logged": {
                    "id": "logged",
                    "name": "logged",
                    "displayName": "say",
                    "type": "Pod",
                    "phase": "Running",
                }
            },
        },
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "logged",
            "labels": {"workflows.argoproj.io/workflow": "logged"},
            "annotations": {"workflows.argoproj.io/node-id": "logged"},
        },
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "imagePullPolicy": "IfNotPresent",
                    "command": [
                        "sh",
                        "-c",
                        "echo first; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo second",
                    ],
                }
            ],
        },
    }
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    # generous: at load average ~95 a cached image's pod took 43 s to be Ready, and once over 120 s
    kubectl("wait", "--for=condition=Ready", "pod/logged", "-n", ns, "--timeout=400s", timeout=410)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sluice", "logs", "logged", "-f", "--kubeconfig", str(kubeconfig), "-n", ns],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout.readline() == "say: first\n"
        # the step is still running: only now does it print its second line
        kubectl("exec", "logged", "-n", ns, "--", "touch", "/tmp/go")
        assert proc.stdout.readline() == "say: second\n"
        set_status(kubectl, ns, "logged", {"phase": "Succeeded"})
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    node_logs = sluice("logs", "logged", "say")
    assert node_logs.returncode == 0 and node_logs.stdout == "first\nsecond\n"
    assert sluice("logs", "logged", "no-such-node").returncode == 3


def test_cron_verbs(sluice, kubectl, ns, tmp_path):
    path = tmp_path / "cron.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "CronWorkflow",
                "metadata": {"name": "nightly"},
                "spec": {
                    "schedules": ["0 2 * * *"],
                    "timezone": "Europe/London",
                    "workflowMetadata": {"labels": {"workflows.argoproj.io/controller-instanceid": INSTANCE}},
                    "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
                },
            }
        )
    )
    assert sluice("cron", "create", str(path)).returncode == 0
    listed = sluice("cron", "list").stdout.splitlines()
    assert listed[0].split() == [
        "NAME",
        "AGE",
        "LAST",
        "RUN",
        "NEXT",
        "RUN",
        "SCHEDULES",
        "TIMEZONE",
        "SUSPENDED",
    ]
    assert listed[1].startswith("nightly ") and listed[1].endswith("0 2 * * *   Europe/London   false")
    assert sluice("cron", "suspend", "nightly").returncode == 0
    assert get(kubectl, ns, "nightly", "cronworkflow")["spec"]["suspend"] is True
    assert sluice("cron", "resume", "nightly").returncode == 0
    assert "suspend" not in get(kubectl, ns, "nightly", "cronworkflow")["spec"]
    submitted = sluice("submit", "--from", "cronwf/nightly", "-o", "name")
    assert submitted.returncode == 0, submitted.stderr
    child = get(kubectl, ns, submitted.stdout.strip())
    assert child["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"] == "nightly"
    assert child["metadata"]["ownerReferences"][0]["kind"] == "CronWorkflow"
    assert sluice("cron", "delete", "nightly").returncode == 0
    assert sluice("cron", "get", "nightly").returncode == 3


# --- with a controller running the workflows (a local `sluice controller` confined to this namespace) -----

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


@pytest.fixture
def controlled(kubeconfig, ns, tmp_path):
    """(instance ID, the controller): workflows labelled with the ID are run by it."""
    from .controller_support import LocalController

    instance = f"cli-{uuid.uuid4().hex[:6]}"
    ctl = LocalController(kubeconfig, ns, instance, tmp_path)
    try:
        ctl.wait_ready()
        yield instance, ctl
    finally:
        assert ctl.stop() == 0, ctl.tail()


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
    from .controller_support import eventually

    def check():
        nodes = (get(kubectl, ns, name).get("status") or {}).get("nodes") or {}
        return any(
            n["displayName"] == "approve" and n["type"] == "Suspend" and n["phase"] == "Running"
            for n in nodes.values()
        )

    eventually(check, 300, 0.5, f"{name} waiting at its gate")


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_an_approval_with_the_controller_and_submit_wait_exit_code(
    sluice, kubectl, kubeconfig, ns, tmp_path, controlled
):
    instance, _ = controlled
    waiter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sluice",
            "submit",
            str(gate_file(tmp_path, "approved", instance)),
            "--wait",
            "--timeout",
            "300",
            "--kubeconfig",
            str(kubeconfig),
            "-n",
            ns,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        waiting_gate(kubectl, ns, "approved")
        done = sluice("resume", "approved", "--node", "approve", "-p", "answer=ship-it")
        assert done.returncode == 0, done.stderr
        out, err = waiter.communicate(timeout=320)
    finally:
        waiter.kill()
    assert waiter.returncode == 0, (out, err)
    assert "approved Succeeded" in out
    nodes = {n["displayName"]: n for n in get(kubectl, ns, "approved")["status"]["nodes"].values()}
    assert nodes["after"]["inputs"]["parameters"][0]["value"] == "ship-it"


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_retry_reaches_succeeded_on_the_second_attempt(sluice, kubectl, ns, tmp_path, controlled):
    from .controller_support import wait_done

    instance, _ = controlled
    assert sluice("submit", str(gate_file(tmp_path, "second", instance))).returncode == 0
    waiting_gate(kubectl, ns, "second")
    assert sluice("resume", "second", "--node", "approve", "--stop").returncode == 0  # first attempt fails
    first = wait_done(kubectl, ns, "second", timeout=300)
    assert first["status"]["phase"] == "Failed"
    assert sluice("wait", "second").returncode == 1

    retried = sluice("retry", "second")
    assert retried.returncode == 0, retried.stderr
    waiting_gate(kubectl, ns, "second")  # the controller runs the failed node again
    assert sluice("resume", "second", "--node", "approve", "-p", "answer=ok").returncode == 0
    final = sluice("wait", "second", "--timeout", "300", timeout=320)
    assert final.returncode == 0, (final.stdout, final.stderr)
    assert final.stdout.startswith("second Succeeded")


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_terminate_with_the_controller_fails_the_workflow(sluice, kubectl, ns, tmp_path, controlled):
    instance, _ = controlled
    assert sluice("submit", str(gate_file(tmp_path, "ended", instance))).returncode == 0
    waiting_gate(kubectl, ns, "ended")
    assert sluice("terminate", "ended").returncode == 0
    result = sluice("wait", "ended", "--timeout", "300", timeout=320)
    assert result.returncode == 1 and result.stdout.startswith("ended Failed"), result.stdout


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_resubmit_memoized_runs_only_what_had_not_succeeded(sluice, kubectl, ns, tmp_path, controlled):
    from .controller_support import eventually, wait_done

    instance, _ = controlled
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [[{"name": "first", "template": "gate"}], [{"name": "second", "template": "gate"}]],
            },
            {"name": "gate", "suspend": {}},
        ],
    }
    path = tmp_path / "twice.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {
                    "name": "twice",
                    "labels": {"workflows.argoproj.io/controller-instanceid": instance},
                },
                "spec": spec,
            }
        )
    )
    assert sluice("submit", str(path)).returncode == 0

    def waiting(name, step):
        def check():
            nodes = (get(kubectl, ns, name).get("status") or {}).get("nodes") or {}
            return any(n["displayName"] == step and n["phase"] == "Running" for n in nodes.values())

        eventually(check, 300, 0.5, f"{name} waiting at {step}")

    waiting("twice", "first")
    assert sluice("resume", "twice", "--node", "first").returncode == 0
    waiting("twice", "second")
    assert sluice("resume", "twice", "--node", "second", "--stop").returncode == 0
    assert wait_done(kubectl, ns, "twice", timeout=300)["status"]["phase"] == "Failed"

    resub = sluice("resubmit", "twice", "--memoized", "-o", "name")
    assert resub.returncode == 0, resub.stderr
    new = resub.stdout.strip()
    assert new.startswith("twice-")
    waiting(new, "second")  # straight to the second gate: the first one is remembered
    nodes = {n["displayName"]: n for n in get(kubectl, ns, new)["status"]["nodes"].values()}
    assert nodes["first"]["phase"] == "Succeeded"
    assert (
        get(kubectl, ns, new)["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == instance
    )
    assert sluice("resume", new, "--node", "second").returncode == 0
    done = sluice("wait", new, "--timeout", "300", timeout=320)
    assert done.returncode == 0, (done.stdout, done.stderr)


def test_get_and_resume_read_and_write_a_compressed_status(sluice, kubectl, ns, tmp_path):
    from workflow.types.compress import decode_compressed_nodes_json, encode_compressed_nodes

    assert sluice("submit", str(workflow_file(tmp_path, "packed"))).returncode == 0
    suspended_at_gate(kubectl, ns, "packed")
    nodes = get(kubectl, ns, "packed")["status"]["nodes"]
    # as the controller holds a status near the size limit: the nodes gzip+base64 in compressedNodes
    kubectl(
        "patch",
        "workflow",
        "packed",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"nodes": None, "compressedNodes": encode_compressed_nodes(nodes)}}),
    )
    tree = sluice("get", "packed")
    assert tree.returncode == 0 and "  ● approve" in tree.stdout, tree.stdout
    done = sluice("resume", "packed", "--node", "approve", "-p", "answer=42")
    assert done.returncode == 0, done.stderr
    status = get(kubectl, ns, "packed")["status"]
    assert "nodes" not in status
    stored, problem = decode_compressed_nodes_json(status["compressedNodes"])
    assert problem is None
    assert stored["packed-1"]["phase"] == "Succeeded"
    assert stored["packed-1"]["outputs"]["parameters"][0]["value"] == "42"
    assert stored["packed"]["phase"] == "Running"
