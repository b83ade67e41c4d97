"""`sluice run` with real processes: outputs, isolation, artifacts, retries, suspend/resume, Ctrl-C,
exit codes and clear messages for what cannot run locally."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.cli_support import REPO, sluice, start


def run(tmp_path: Path, doc_or_file, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if isinstance(doc_or_file, dict):
        path = tmp_path / "wf.yaml"
        path.write_text(yaml.safe_dump(doc_or_file))
    else:
        path = doc_or_file
    return sluice(tmp_path / "home", "run", str(path), *args, timeout=timeout)


def workflow(name: str, templates: list, **spec) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }


def status(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout)["status"]


def nodes(result: subprocess.CompletedProcess) -> dict[str, dict]:
    return {n["displayName"]: n for n in status(result)["nodes"].values()}


def test_hello_world_example_runs_and_prints(tmp_path):
    result = run(tmp_path, REPO / "examples" / "hello-world.yaml")
    assert result.returncode == 0, result.stderr
    assert "hello world" in result.stdout  # the steps' output on stdout, progress on stderr (issue 14)
    assert "hello world" not in result.stderr
    assert "Succeeded" in result.stderr


def test_json_output_is_the_workflow_with_argo_status(tmp_path):
    result = run(
        tmp_path, REPO / "examples" / "parameters.yaml", "-p", "greeting=bonjour", "-o", "json", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    wf = json.loads(result.stdout)
    assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Succeeded"
    st = wf["status"]
    assert st["phase"] == "Succeeded" and st["progress"] == "2/2"
    by_name = {n["displayName"]: n for n in st["nodes"].values()}
    assert by_name["compose"]["outputs"]["parameters"][0]["value"] == "bonjour world"
    assert by_name["print"]["inputs"]["parameters"][0]["value"] == "bonjour world"


def test_yaml_output(tmp_path):
    result = run(tmp_path, REPO / "examples" / "hello-world.yaml", "-o", "yaml", "--quiet")
    assert yaml.safe_load(result.stdout)["status"]["phase"] == "Succeeded"


def test_parallel_nodes_writing_the_same_path_do_not_see_each_other(tmp_path):
    templates = [
        {
            "name": "main",
            "steps": [
                [
                    {
                        "name": "w",
                        "template": "write",
                        "withItems": ["a", "b", "c"],
                        "arguments": {"parameters": [{"name": "v", "value": "{{item}}"}]},
                    }
                ]
            ],
        },
        {
            "name": "write",
            "inputs": {"parameters": [{"name": "v"}]},
            "container": {
                "image": "busybox",
                "command": ["sh", "-c"],
                "args": [
                    "test ! -e /tmp/out.txt && echo {{inputs.parameters.v}} > /tmp/out.txt && sleep 1 "
                    "&& cat /tmp/out.txt"
                ],
            },
            "outputs": {"parameters": [{"name": "got", "valueFrom": {"path": "/tmp/out.txt"}}]},
        },
    ]
    result = run(tmp_path, workflow("isolated", templates), "-o", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    got = {n: v["outputs"]["parameters"][0]["value"] for n, v in nodes(result).items() if n.startswith("w(")}
    # each node found no /tmp/out.txt (`test ! -e`) and read back its own value after the others wrote
    assert got == {"w(0:a)": "a", "w(1:b)": "b", "w(2:c)": "c"}


def test_result_exit_code_and_failure_message(tmp_path):
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "gen", "template": "gen"}],
                [
                    {
                        "name": "fail",
                        "template": "fail",
                        "arguments": {"parameters": [{"name": "x", "value": "{{steps.gen.outputs.result}}"}]},
                    }
                ],
            ],
        },
        {
            "name": "gen",
            "script": {"image": "python:alpine3.23", "command": ["python"], "source": "print(6 * 7)"},
        },
        {
            "name": "fail",
            "inputs": {"parameters": [{"name": "x"}]},
            "container": {
                "image": "busybox",
                "command": ["sh", "-c", "echo got {{inputs.parameters.x}}; exit 3"],
            },
        },
    ]
    result = run(tmp_path, workflow("codes", templates), "-o", "json", "--quiet")
    assert result.returncode == 1
    by = nodes(result)
    assert by["gen"]["outputs"]["result"] == "42"
    assert by["fail"]["phase"] == "Failed"
    assert by["fail"]["message"] == "main: Error (exit code 3)"
    assert by["fail"]["outputs"]["exitCode"] == "3"
    assert status(result)["phase"] == "Failed"


def test_artifacts_pass_through_the_local_artifact_directory(tmp_path):
    result = run(
        tmp_path,
        REPO / "examples" / "artifacts.yaml",
        "-o",
        "json",
        "--quiet",
        "--artifact-dir",
        str(tmp_path / "arts"),
    )
    assert result.returncode == 0, result.stderr
    by = nodes(result)
    art = by["produce"]["outputs"]["artifacts"][0]
    key = art["s3"]["key"]
    assert key.endswith("/report.tgz")
    assert (tmp_path / "arts" / key).is_file()
    assert by["consume"]["inputs"]["artifacts"][0]["s3"]["key"] == key


def test_retries_create_attempts(tmp_path):
    result = run(tmp_path, REPO / "examples" / "retries.yaml", "-o", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    by = nodes(result)
    assert by["flaky"]["type"] == "Retry"
    assert [by[f"flaky({i})"]["phase"] for i in range(3)] == ["Failed", "Failed", "Succeeded"]


def test_exit_handler_runs_and_exit_code_is_one(tmp_path):
    result = run(tmp_path, REPO / "examples" / "exit-handler.yaml", "-o", "json", "--quiet")
    assert result.returncode == 1
    st = status(result)
    exit_node = next(n for n in st["nodes"].values() if n["name"].endswith(".onExit"))
    assert exit_node["phase"] == "Succeeded"


def test_what_cannot_run_locally_fails_with_a_message(tmp_path):
    templates = [
        {
            "name": "main",
            "steps": [[{"name": "k8s", "template": "k8s"}, {"name": "nope", "template": "nope"}]],
        },
        {"name": "k8s", "resource": {"action": "create", "manifest": "apiVersion: v1\nkind: ConfigMap\n"}},
        {"name": "nope", "container": {"image": "busybox", "command": ["no-such-program-here"]}},
    ]
    result = run(tmp_path, workflow("cannot", templates), "-o", "json", "--quiet")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    by = nodes(result)
    assert (
        by["k8s"]["message"]
        == "resource templates need a Kubernetes cluster; the local runner cannot run them"
    )
    assert (
        by["nope"]["message"]
        == "'no-such-program-here' (from image 'busybox') is not installed on this machine"
    )


def test_invalid_workflow_is_reported_not_run(tmp_path):
    templates = [{"name": "main", "steps": [[{"name": "a", "template": "missing"}]]}]
    result = run(tmp_path, workflow("invalid", templates))
    assert result.returncode == 1
    assert "is not valid" in result.stderr and "missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_file_is_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("kind: [unclosed\n")
    result = run(tmp_path, path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _start(tmp_path: Path, file: Path, name: str) -> subprocess.Popen:
    return start(tmp_path / "home", "run", str(file), "--name", name, "-o", "json", "--quiet")


def _wait_for(tmp_path: Path, name: str, predicate, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    path = tmp_path / "home" / "runs" / name / "workflow.json"
    while time.time() < deadline:
        try:
            wf = json.loads(path.read_text())
        except (OSError, ValueError):
            wf = None
        if wf is not None and predicate(wf):
            return wf
        time.sleep(0.2)
    raise AssertionError(f"condition not reached for {name}")


def test_suspend_gate_resumes_from_another_shell(tmp_path):
    proc = _start(tmp_path, REPO / "examples" / "suspend-gate.yaml", "gate")

    def waiting(wf):
        return any(n["type"] == "Suspend" and n["phase"] == "Running" for n in wf["status"]["nodes"].values())

    _wait_for(tmp_path, "gate", waiting)
    resume = sluice(tmp_path / "home", "resume", "gate", "-p", "decision=ship-it")
    assert resume.returncode == 0, resume.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    by = {n["displayName"]: n for n in json.loads(out)["status"]["nodes"].values()}
    assert by["approve"]["outputs"]["parameters"][0]["value"] == "ship-it"
    assert by["release"]["inputs"]["parameters"][0]["value"] == "approved: ship-it"


def test_resume_without_a_run_is_an_error(tmp_path):
    result = sluice(tmp_path / "home", "resume", "nothing")
    assert result.returncode == 1
    assert "no active run" in result.stderr


@pytest.mark.timeout(120)
def test_ctrl_c_stops_steps_and_still_runs_the_exit_handler(tmp_path):
    doc = workflow(
        "interrupted",
        [
            {
                "name": "main",
                "steps": [[{"name": "long", "template": "long"}], [{"name": "never", "template": "long"}]],
            },
            {"name": "long", "container": {"image": "busybox", "command": ["sleep", "300"]}},
            {
                "name": "bye",
                "container": {"image": "busybox", "command": ["echo", "bye {{workflow.status}}"]},
            },
        ],
        onExit="bye",
    )
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    proc = _start(tmp_path, path, "interrupted")
    _wait_for(
        tmp_path,
        "interrupted",
        lambda wf: any(
            n["displayName"] == "long" and n["phase"] == "Running" for n in wf["status"]["nodes"].values()
        ),
    )
    started = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.time() - started < 30  # SIGTERM reached `sleep 300`
    assert proc.returncode == 1
    st = json.loads(out)["status"]
    by = {n["displayName"]: n for n in st["nodes"].values()}
    assert st["message"] == "Stopped with strategy 'Stop'"
    assert by["long"]["phase"] == "Failed"
    assert "never" not in by
    exit_node = next(n for n in st["nodes"].values() if n["name"].endswith(".onExit"))
    assert exit_node["phase"] == "Succeeded"


def test_container_set_runs_its_containers_in_dependency_order(tmp_path):
    templates = [
        {
            "name": "main",
            "containerSet": {
                "containers": [
                    {"name": "a", "image": "busybox", "command": ["sh", "-c", "echo a > /work/a"]},
                    {
                        "name": "b",
                        "image": "busybox",
                        "command": ["sh", "-c", "cat /work/a && exit 2"],
                        "dependencies": ["a"],
                    },
                    {"name": "c", "image": "busybox", "command": ["echo", "never"], "dependencies": ["b"]},
                ],
                "volumeMounts": [{"name": "work", "mountPath": "/work"}],
            },
            "volumes": [{"name": "work", "emptyDir": {}}],
        }
    ]
    result = run(tmp_path, workflow("cset", templates), "-o", "json", "--quiet")
    assert result.returncode == 1
    by = {n["name"]: n for n in status(result)["nodes"].values()}
    assert by["cset"]["type"] == "Pod"
    assert by["cset.a"]["type"] == "Container" and by["cset.a"]["phase"] == "Succeeded"
    assert by["cset.b"]["phase"] == "Failed" and by["cset.b"]["outputs"] == {"exitCode": "2"}
    assert by["cset.c"]["phase"] == "Failed"
    assert by["cset"]["message"] == "b: Error (exit code 2)"
