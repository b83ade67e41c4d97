"""The CLI with a controller running the workflows (a local `sluice controller` confined to the
module's namespace): approval and `submit --wait`, retry to success, terminate, resubmit --memoized."""

from __future__ import annotations

import pytest
import yaml

from .support import gate_file, get, waiting_gate


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_an_approval_with_the_controller_and_submit_wait_exit_code(
    sluice, kubectl, kubeconfig, ns, tmp_path, controlled
):
    instance, _ = controlled
    waiter = sluice.popen(
        "submit", str(gate_file(tmp_path, "approved", instance)), "--wait", "--timeout", "300"
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
    from ..controller_support import wait_done

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
    from ..controller_support import eventually, wait_done

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


@pytest.mark.timeout(900)  # waits are generous: the machine runs at load 40-100
def test_submit_log_follows_the_real_pods_until_the_workflow_ends(sluice, kubectl, ns, tmp_path, controlled):
    from ..controller_support import grant_executor

    instance, _ = controlled
    grant_executor(kubectl, ns)
    echo = {"image": "busybox:1.36", "command": ["sh", "-c", "echo hello from {{inputs.parameters.who}}"]}
    steps = [
        [{"name": who, "template": "echo", "arguments": {"parameters": [{"name": "who", "value": who}]}}]
        for who in ("first", "second")
    ]
    path = tmp_path / "logged.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {
                    "name": "logged",
                    "labels": {"workflows.argoproj.io/controller-instanceid": instance},
                },
                "spec": {
                    "entrypoint": "main",
                    "templates": [
                        {"name": "main", "steps": steps},
                        {"name": "echo", "inputs": {"parameters": [{"name": "who"}]}, "container": echo},
                    ],
                },
            }
        )
    )
    result = sluice("submit", str(path), "--log", "--wait", "--timeout", "600", timeout=660)
    assert result.returncode == 0, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert "first: hello from first" in lines and "second: hello from second" in lines, lines
    assert lines.index("first: hello from first") < lines.index("second: hello from second")
    assert lines[-1] == "logged Succeeded"
