"""`sluice suspend|resume|stop|terminate` against the real kube-apiserver (sluice/commands/control.py,
resume.py): spec changes, and approval gates resumed through the status subresource with the roles
the project ships."""

from __future__ import annotations

import json

import yaml

from .support import REPO, get, service_account_kubeconfig, set_status, suspended_at_gate, workflow_file


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
    approver = service_account_kubeconfig(
        kubectl, kubeconfig, ns, "approver", shipped["sluice-workflows-approve"], tmp_path / "approver"
    )
    editor = service_account_kubeconfig(
        kubectl, kubeconfig, ns, "editor", shipped["sluice-workflows-edit"], tmp_path / "editor"
    )
    viewer = service_account_kubeconfig(
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


def test_stop_with_a_node_field_selector_fails_that_gate_with_the_message(sluice, kubectl, ns, tmp_path):
    assert sluice("submit", str(workflow_file(tmp_path, "halt"))).returncode == 0
    suspended_at_gate(kubectl, ns, "halt")
    stopped = sluice("stop", "halt", "--node-field-selector", "displayName=approve", "--message", "not today")
    assert stopped.returncode == 0, stopped.stderr
    wf = get(kubectl, ns, "halt")
    node = wf["status"]["nodes"]["halt-1"]
    assert node["phase"] == "Failed" and node["message"] == "not today"
    assert "shutdown" not in wf["spec"]  # only that node: the workflow goes on (its controller decides)
    none = sluice("stop", "halt", "--node-field-selector", "displayName=approve")
    assert none.returncode == 3 and "no waiting suspend node" in none.stderr
    # --message alone is argo's no-op for the nodes: the workflow is stopped, with a warning
    plain = sluice("stop", "halt", "--message", "ignored")
    assert plain.returncode == 0 and "--message is recorded only with --node-field-selector" in plain.stderr
    assert get(kubectl, ns, "halt")["spec"]["shutdown"] == "Stop"
