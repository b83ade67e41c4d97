"""`sluice ui --local`'s JSON API (sluice/ui/api.py) on real `sluice run` runs: a real server process, real
HTTP on 127.0.0.1, runs made and resumed by the real runner."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.request

import pytest
import yaml

from tests.integration.ui_support import EXAMPLES, events, http, run, start_run, ui_server, wait_for


def write(tmp_path, name, script, extra_templates=()):
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "labels": {"team": "data"}},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": "work", "template": "sh"}]]},
                {"name": "sh", "container": {"image": "busybox", "command": ["sh", "-c", script]}},
                *extra_templates,
            ],
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """Two finished runs (one Succeeded, one Failed) and a UI serving them."""
    tmp = tmp_path_factory.mktemp("ui")
    home = tmp / "home"
    assert run(home, EXAMPLES / "steps.yaml", "steps-ok") == 0
    assert run(home, write(tmp, "broken", "echo first line; echo second line; exit 3"), "broken") == 1
    assert run(home, EXAMPLES / "artifacts.yaml", "art") == 0
    # a run whose status names an artifact outside its directory (a hand-edited or hostile file)
    forged = json.loads((home / "runs" / "art" / "workflow.json").read_text())
    forged["metadata"]["name"] = "forged"
    for node in forged["status"]["nodes"].values():
        for artifact in (node.get("outputs") or {}).get("artifacts") or ():
            artifact["s3"]["key"] = "../../art/workflow.json"
    (home / "runs" / "forged").mkdir()
    (home / "runs" / "forged" / "workflow.json").write_text(json.dumps(forged))
    with ui_server(home) as url:
        yield url


def test_the_list_filters_by_phase_label_and_namespace(finished):
    status, body = http(f"{finished}/api/workflows")
    assert status == 200
    assert {w["name"]: w["phase"] for w in body["items"]} == {
        "steps-ok": "Succeeded",
        "broken": "Failed",
        "art": "Succeeded",
        "forged": "Succeeded",
    }
    broken = next(w for w in body["items"] if w["name"] == "broken")
    assert broken["namespace"] == "default" and broken["labels"]["team"] == "data" and broken["duration"]

    def names(query):
        status, body = http(f"{finished}/api/workflows?{query}")
        assert status == 200, body
        return sorted(w["name"] for w in body["items"])

    assert names("phase=Failed") == ["broken"]
    assert names("phase=succeeded,Error") == ["art", "forged", "steps-ok"]
    assert names("label=team%3Ddata") == ["broken"]
    assert names("label=!team") == ["art", "forged", "steps-ok"]
    assert names("namespace=elsewhere") == []
    assert names("namespace=") == ["art", "broken", "forged", "steps-ok"]  # empty: every namespace

    assert http(f"{finished}/api/workflows?phase=Bogus") == (
        400,
        {"error": "phase: unknown phase 'Bogus' (one of Pending, Running, Succeeded, Failed, Error)"},
    )
    status, body = http(f"{finished}/api/workflows?label=%3Dx")
    assert status == 400 and "label" in body["error"]


def test_one_workflow_its_graph_a_node_and_its_logs(finished):
    status, body = http(f"{finished}/api/workflows/default/steps-ok")
    assert status == 200
    assert body["summary"]["phase"] == "Succeeded"
    shown = {n["displayName"]: n for n in body["graph"]["nodes"]}
    assert {"steps-ok", "flip", "done"} <= set(shown)
    assert shown["done"]["y"] > shown["flip"]["y"] > shown["steps-ok"]["y"]  # drawn top down
    assert not any(body["actions"].values())  # a finished local run offers nothing

    status, node = http(f"{finished}/api/workflows/default/steps-ok/nodes/flip")
    assert status == 200 and node["displayName"] == "flip" and node["type"] == "Pod"
    assert node["podName"].startswith("steps-ok-flip-") and node["outputs"]["result"] in ("heads", "tails")

    assert http(f"{finished}/api/workflows/default/broken/logs?node=work") == (
        200,
        "first line\nsecond line\n",
    )
    status, text = http(f"{finished}/api/workflows/default/broken/logs")
    assert status == 200 and text == "work: first line\nwork: second line\n"
    seen = list(events(f"{finished}/api/workflows/default/broken/logs?node=work&follow=1"))
    assert seen == [
        ("line", {"node": "work", "line": "first line"}),
        ("line", {"node": "work", "line": "second line"}),
        ("end", {}),
    ]

    seen = list(events(f"{finished}/api/workflows/default/broken/events"))
    assert [e for e, _ in seen] == ["workflow", "end"]
    assert seen[0][1]["summary"]["phase"] == "Failed"
    assert any(n["phase"] == "Failed" for n in seen[0][1]["graph"]["nodes"])


def test_errors_are_one_line_and_the_server_answers_only_this_machine(finished):
    assert http(f"{finished}/api/workflows/default/nope")[0] == 404
    assert http(f"{finished}/api/workflows/other/steps-ok")[0] == 404
    assert http(f"{finished}/api/workflows/default/steps-ok/nodes/nope") == (
        404,
        {"error": "workflow steps-ok has no node 'nope'"},
    )
    assert http(f"{finished}/api/workflows/default/steps-ok/events")[0] == 200
    assert http(f"{finished}/api/workflows/default/nope/events")[0] == 404
    # DNS rebinding: a page of another site that resolves to 127.0.0.1 is refused
    status, body = http(f"{finished}/api/workflows", headers={"Host": "attacker.example"})
    assert status == 421 and "not this machine" in body["error"]
    # actions: JSON only (a plain form from another site cannot post one), from this origin only
    status, body = http(
        f"{finished}/api/workflows/default/broken/resubmit",
        "POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415
    status, body = http(
        f"{finished}/api/workflows/default/broken/retry",
        "POST",
        {},
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403 and "origin" in body["error"]
    status, body = http(f"{finished}/api/workflows/default/broken/retry", "POST", {})
    assert status == 403 and "not possible" in body["error"]  # retry is a cluster verb
    status, body = http(f"{finished}/api/workflows/default/broken/explode", "POST", {})
    assert status == 404 and "no action" in body["error"]
    status, body = http(f"{finished}/api/workflows/default/broken/resume", "POST", {"parameters": ["x"]})
    assert status == 400 and "parameters" in body["error"]
    assert http(f"{finished}/api/cronworkflows") == (200, {"items": [], "mode": "local"})
    assert http(f"{finished}/static/../server.py")[0] == 404
    status, page = http(f"{finished}/workflows/default/steps-ok?node=flip")
    assert status == 200 and 'data-page="workflow"' in page and "/static/app.js" in page


def test_an_approval_gate_is_resumed_with_its_parameter_through_the_api(tmp_path):
    home = tmp_path / "home"
    proc = start_run(home, EXAMPLES / "suspend-gate.yaml", "gate")
    try:
        with ui_server(home) as url:

            def waiting():
                status, body = http(f"{url}/api/workflows/default/gate")
                return status == 200 and body["actions"]["resume"] and body

            body = wait_for(waiting, 120, "the gate to wait")
            assert body["summary"]["phase"] == "Running"
            assert body["actions"]["stop"] and not body["actions"]["retry"]
            (gate,) = body["waiting"]
            assert gate["displayName"] == "approve" and gate["outputs"]["parameters"][0]["name"] == "decision"
            status, answer = http(
                f"{url}/api/workflows/default/gate/resume",
                "POST",
                {"node": gate["id"], "parameters": {"decision": "hold"}},
            )
            assert status == 200, answer
            assert "resume requested" in answer["message"]
            assert proc.wait(timeout=120) == 0
            status, body = http(f"{url}/api/workflows/default/gate/nodes/release")
            assert body["phase"] == "Succeeded"
            assert http(f"{url}/api/workflows/default/gate/logs?node=release") == (200, "approved: hold\n")
    finally:
        proc.kill()


def test_a_running_workflow_is_followed_live_and_stopped(tmp_path):
    home = tmp_path / "home"
    path = write(tmp_path, "slow", "echo started; sleep 300")
    proc = start_run(home, path, "slow")
    try:
        with ui_server(home) as url:
            wait_for(lambda: http(f"{url}/api/workflows/default/slow")[0] == 200, 120, "the run to appear")
            phases = []
            stopped = False
            lines = []
            for event, data in events(f"{url}/api/workflows/default/slow/events"):
                if event != "workflow":
                    assert event == "end"
                    break
                phases.append(data["summary"]["phase"])
                work = next((n for n in data["graph"]["nodes"] if n["displayName"] == "work"), None)
                if not stopped and work and work["phase"] == "Running" and data["actions"]["stop"]:
                    followed = events(f"{url}/api/workflows/default/slow/logs?node=work&follow=1")
                    lines.append(next(followed))  # the running step's output, as it comes
                    followed.close()
                    status, answer = http(f"{url}/api/workflows/default/slow/stop", "POST", {})
                    assert status == 200, answer
                    stopped = True
            assert stopped and phases[-1] == "Failed" and "Running" in phases
            assert lines == [("line", {"node": "work", "line": "started"})]
    finally:
        proc.kill()
    assert proc.wait(timeout=60) != 0


def test_artifacts_are_downloaded_from_the_run(finished):
    base = f"{finished}/api/workflows/default"
    with urllib.request.urlopen(f"{base}/art/artifacts/produce/outputs/report", timeout=60) as resp:
        assert resp.status == 200
        assert 'filename="report.tgz"' in resp.headers["Content-Disposition"]
        data = resp.read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == [
            "report/summary.txt",
            "report/when.txt",
        ]
        assert tar.extractfile("report/summary.txt").read() == b"all good\n"  # what the step wrote
    # the consumer's input is the same stored file
    with urllib.request.urlopen(f"{base}/art/artifacts/consume/inputs/report", timeout=60) as resp:
        assert resp.read() == data
    status, body = http(f"{base}/art/artifacts/produce/outputs/nope")
    assert status == 404 and "no output artifact 'nope'" in body["error"]
    assert http(f"{base}/art/artifacts/produce/sideways/report")[0] == 404
    status, body = http(f"{base}/forged/artifacts/produce/outputs/report")
    assert status == 404 and "no file in this run" in body["error"]  # never a file outside the run


def test_the_command_fails_in_one_line_when_it_cannot_serve(tmp_path):
    import socket
    import subprocess
    import sys

    from tests.integration.ui_support import REPO, env

    def ui(*argv):
        return subprocess.run(
            [sys.executable, "-m", "sluice", "ui", *argv],
            env=env(tmp_path / "home"),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = ui("--local", "--port", str(port))
    assert busy.returncode == 1 and busy.stderr.strip().endswith("address already in use"), busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1
    bad = ui("--port", "70000", "--local")
    assert bad.returncode == 2 and "not a port" in bad.stderr
    broken = tmp_path / "broken-kubeconfig"
    broken.write_text("clusters: [}")
    refused = ui("--auth-mode", "client", "--kubeconfig", str(broken), "--port", "0")
    assert refused.returncode == 4 and refused.stderr.startswith("sluice ui: cannot load kubeconfig"), (
        refused.stderr
    )
    assert ui("--auth-mode", "client", "--local").returncode == 2
