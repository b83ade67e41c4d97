"""`sluice logs` of real pods (sluice/commands/logs.py): followed while a step runs, one node, `--grep`."""

from __future__ import annotations

import json

import pytest

from .support import set_status, step_pod, workflow_file


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
    pod = step_pod("logged", "logged", "echo first; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo second")
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    # generous: at load average ~95 a cached image's pod took 43 s to be Ready, and once over 120 s
    kubectl("wait", "--for=condition=Ready", "pod/logged", "-n", ns, "--timeout=400s", timeout=410)
    proc = sluice.popen("logs", "logged", "-f")
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
    grepped = sluice("logs", "logged", "--grep", "^sec")  # a Go regexp, as argo logs --grep
    assert grepped.returncode == 0 and grepped.stdout == "say: second\n", grepped.stderr
    bad = sluice("logs", "logged", "--grep", "(")
    assert bad.returncode == 2 and "--grep: error parsing regexp" in bad.stderr
    assert sluice("logs", "logged", "no-such-node").returncode == 3
