"""Resource templates' flow (executor-sidecar/sluice_executor/resource.py) with an in-memory API:
actions, owner references, conditions polled until they hold, outputs, clear errors, and the task result
always finished. The real API path is tests/e2e/test_executor_resource.py."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json

import pytest
from sluice_executor.podenv import PodEnv
from sluice_executor.resource import NotFoundError, ResourceError, run_resource

from tests.integration.executor_support import RecordingAPI, merge_patch

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: '1'\n"


class MemoryResources:
    """Objects by (kind, namespace, name); `evolve` changes an object on each get (a Job progressing)."""

    def __init__(self, evolve=None):
        self.objects: dict[tuple, dict] = {}
        self.calls: list[str] = []
        self.evolve = evolve or []

    def _key(self, obj):
        meta = obj.get("metadata") or {}
        return (str(obj.get("kind")).lower(), meta.get("namespace"), meta.get("name"))

    async def get(self, obj):
        self.calls.append("get")
        key = self._key(obj)
        if key not in self.objects:
            raise NotFoundError(f"get {key}: not found")
        if self.evolve:
            self.objects[key] = merge_patch(self.objects[key], self.evolve.pop(0))
        return copy.deepcopy(self.objects[key])

    async def create(self, obj):
        self.calls.append("create")
        key = self._key(obj)
        if key in self.objects:
            raise ResourceError(f"create {key}: already exists")
        self.objects[key] = copy.deepcopy(obj)
        return copy.deepcopy(obj)

    async def apply(self, obj):
        self.calls.append("apply")
        self.objects[self._key(obj)] = merge_patch(self.objects.get(self._key(obj), {}), obj)
        return copy.deepcopy(self.objects[self._key(obj)])

    async def replace(self, obj):
        self.calls.append("replace")
        if self._key(obj) not in self.objects:
            raise NotFoundError("replace: not found")
        self.objects[self._key(obj)] = copy.deepcopy(obj)
        return copy.deepcopy(obj)

    async def patch(self, obj, body, patch_type):
        self.calls.append(f"patch:{patch_type}")
        key = self._key(obj)
        if key not in self.objects:
            raise NotFoundError("patch: not found")
        if patch_type == "json":
            for op in body:
                assert op["op"] == "add"
                node = self.objects[key]
                parts = op["path"].strip("/").split("/")
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                node[parts[-1]] = op["value"]
        else:
            self.objects[key] = merge_patch(self.objects[key], body)
        return copy.deepcopy(self.objects[key])

    async def delete(self, obj):
        self.calls.append("delete")
        if self.objects.pop(self._key(obj), None) is None:
            raise NotFoundError("delete: not found")


def env_for(tmp_path, resource: dict, outputs: dict | None = None) -> PodEnv:
    template = {"name": "r", "resource": resource}
    if outputs:
        template["outputs"] = outputs
    return PodEnv.from_env(
        {
            "ARGO_TEMPLATE": json.dumps(template),
            "ARGO_NODE_ID": "wf-9",
            "ARGO_WORKFLOW_NAME": "wf",
            "ARGO_WORKFLOW_UID": "uid-wf",
            "ARGO_POD_NAME": "wf-r-9",
            "ARGO_NAMESPACE": "ns",
            "SLUICE_TERMINATION_LOG": str(tmp_path / "termination-log"),
        }
    )


def run(env, action, api, results=None):
    results = results or RecordingAPI()

    async def no_sleep(seconds):
        await asyncio.sleep(0)

    return asyncio.run(run_resource(env, action, api, results, sleep=no_sleep)), results


def test_create_with_owner_and_json_path_output(tmp_path):
    env = env_for(
        tmp_path,
        {"action": "create", "manifest": CM, "setOwnerReference": True},
        {
            "parameters": [
                {"name": "n", "valueFrom": {"jsonPath": "{.metadata.name}"}},
                {"name": "a", "valueFrom": {"jsonPath": "{.data.a}"}},
            ]
        },
    )
    api = MemoryResources()
    code, results = run(env, "create", api)
    assert code == 0
    created = api.objects[("configmap", "ns", "cm")]
    assert created["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "name": "wf",
            "uid": "uid-wf",
            "blockOwnerDeletion": True,
        }
    ]
    result = results.result("wf-9", "ns")
    assert [p["value"] for p in result["outputs"]["parameters"]] == ["cm", "1"]
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"


def test_success_condition_is_polled_until_it_holds(tmp_path):
    job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n"
    env = env_for(
        tmp_path,
        {
            "action": "create",
            "manifest": job,
            "successCondition": "status.succeeded > 0",
            "failureCondition": "status.failed > 3",
        },
    )
    api = MemoryResources(
        evolve=[{"status": {"active": 1}}, {"status": {"active": 1}}, {"status": {"succeeded": 1}}]
    )
    code, _ = run(env, "create", api)
    assert code == 0
    assert api.calls == ["create", "get", "get", "get"]


def test_failure_condition_fails_the_node_with_its_text(tmp_path):
    job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n"
    env = env_for(
        tmp_path,
        {
            "action": "create",
            "manifest": job,
            "successCondition": "status.succeeded > 0",
            "failureCondition": "status.failed > 3",
        },
    )
    api = MemoryResources(evolve=[{"status": {"failed": 4}}])
    code, results = run(env, "create", api)
    assert code == 1
    assert (
        tmp_path / "termination-log"
    ).read_text() == "Job ns/j: failure condition 'status.failed > 3' evaluated true"
    assert (
        results.result("wf-9", "ns")["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"]
        == "true"
    )


def test_patch_targets_from_flags_json_and_merge(tmp_path):
    api = MemoryResources()
    api.objects[("pod", "ns", "wf-r-9")] = {"kind": "Pod", "metadata": {"name": "wf-r-9", "namespace": "ns"}}
    json_patch = "- op: add\n  path: /metadata/annotations\n  value: {foo: bar}\n"
    env = env_for(
        tmp_path,
        {"action": "patch", "mergeStrategy": "json", "flags": ["pod", "wf-r-9"], "manifest": json_patch},
    )
    assert run(env, "patch", api)[0] == 0
    merge = "metadata:\n  labels:\n    x: y\n"
    env = env_for(
        tmp_path, {"action": "patch", "mergeStrategy": "merge", "flags": ["pod/wf-r-9"], "manifest": merge}
    )
    assert run(env, "patch", api)[0] == 0
    pod = api.objects[("pod", "ns", "wf-r-9")]
    assert pod["metadata"]["annotations"] == {"foo": "bar"} and pod["metadata"]["labels"] == {"x": "y"}
    assert api.calls == ["patch:json", "patch:merge"]


@pytest.mark.parametrize(
    ("resource", "action", "message"),
    [
        (
            {"action": "create", "manifest": "kind: ConfigMap"},
            "create",
            "must be one object with apiVersion and kind",
        ),
        ({"action": "create", "manifest": "a: [b"}, "create", "the manifest is not YAML"),
        ({"action": "create"}, "create", "has no manifest"),
        ({"action": "launch", "manifest": CM}, "launch", "action 'launch': must be one of"),
        (
            {"action": "patch", "mergeStrategy": "json", "manifest": CM},
            "patch",
            "json patch manifest must be a list",
        ),
        (
            {"action": "patch", "mergeStrategy": "three-way", "manifest": CM},
            "patch",
            "mergeStrategy 'three-way'",
        ),
        ({"action": "delete", "manifest": CM}, "delete", "not found"),
        (
            {"action": "create", "manifest": CM, "successCondition": "status.phase in Failed"},
            "create",
            "cannot parse condition",
        ),
    ],
)
def test_errors_are_clear(tmp_path, resource, action, message):
    code, results = run(env_for(tmp_path, resource), action, MemoryResources())
    assert code == 1
    assert message in (tmp_path / "termination-log").read_text()
    assert (
        results.result("wf-9", "ns")["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"]
        == "true"
    )


def test_delete_ignore_not_found_and_other_actions(tmp_path):
    api = MemoryResources()
    env = env_for(tmp_path, {"action": "delete", "manifest": CM, "flags": ["--ignore-not-found"]})
    assert run(env, "delete", api)[0] == 0
    for action in ("apply", "replace", "get", "delete"):
        env = env_for(tmp_path, {"action": action, "manifest": CM})
        assert run(env, action, api)[0] == 0, (tmp_path / "termination-log").read_text()
    assert api.calls == ["delete", "apply", "replace", "get", "delete"]


def test_jq_filter_outputs_as_argo_writes_them_and_default_applies(tmp_path):
    """k8s-jobs.yaml's `jqFilter: '.'`: the whole object as compact JSON with sorted keys; strings as they
    are; several results one per line; a broken filter names itself; `default` covers a failing one."""
    outputs = {
        "parameters": [
            {"name": "name", "valueFrom": {"jqFilter": ".metadata.name"}},
            {"name": "obj", "valueFrom": {"jqFilter": "."}},
            {"name": "many", "valueFrom": {"jqFilter": ".data.a, (.data | keys)"}},
            {"name": "d", "valueFrom": {"jsonPath": "{.data.none}", "default": "dflt"}},
            {"name": "e", "valueFrom": {"jqFilter": 'error("no")', "default": "fallback"}},
        ]
    }
    code, results = run(
        env_for(tmp_path, {"action": "create", "manifest": CM}, outputs), "create", MemoryResources()
    )
    assert code == 0, (tmp_path / "termination-log").read_text()
    values = {p["name"]: p["value"] for p in results.result("wf-9", "ns")["outputs"]["parameters"]}
    assert values["name"] == "cm"
    obj = json.loads(values["obj"])
    assert obj["metadata"]["name"] == "cm" and obj["data"] == {"a": "1"}
    assert values["obj"] == json.dumps(obj, separators=(",", ":"), sort_keys=True)
    assert values["many"] == '1\n["a"]'
    assert values["d"] == "dflt" and values["e"] == "fallback"


def test_a_broken_jq_filter_fails_the_node_naming_it(tmp_path):
    outputs = {"parameters": [{"name": "q", "valueFrom": {"jqFilter": ".metadata.["}}]}
    code, results = run(
        env_for(tmp_path, {"action": "create", "manifest": CM}, outputs), "create", MemoryResources()
    )
    assert code == 1
    message = (tmp_path / "termination-log").read_text()
    assert message.startswith("output parameter q: jqFilter '.metadata.[': jq: error: syntax error"), message
    assert (
        results.result("wf-9", "ns")["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"]
        == "true"
    )


def test_manifest_from_an_input_artifact(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "manifest").write_text(CM)
    resource = {"action": "create", "manifestFrom": {"artifact": {"name": "manifest"}}}
    env = env_for(
        tmp_path, resource, {"parameters": [{"name": "n", "valueFrom": {"jqFilter": ".metadata.name"}}]}
    )
    env = dataclasses.replace(env, layout=dataclasses.replace(env.layout, inputs=inputs))
    api = MemoryResources()
    code, results = run(env, "create", api)
    assert code == 0, (tmp_path / "termination-log").read_text()
    assert ("configmap", "ns", "cm") in api.objects
    assert results.result("wf-9", "ns")["outputs"]["parameters"][0]["value"] == "cm"


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda d: None, "manifestFrom: input artifact manifest cannot be read: No such file or directory"),
        (lambda d: (d / "manifest").mkdir(), "manifestFrom: input artifact manifest is a directory"),
        (
            lambda d: (d / "manifest").write_bytes(b"\xff\xfe"),
            "manifestFrom: input artifact manifest is not UTF-8",
        ),
        (lambda d: (d / "manifest").write_text("a: [b"), "the manifest is not YAML"),
    ],
)
def test_manifest_from_errors_are_clear(tmp_path, prepare, message):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    prepare(inputs)
    env = env_for(tmp_path, {"action": "create", "manifestFrom": {"artifact": {"name": "manifest"}}})
    env = dataclasses.replace(env, layout=dataclasses.replace(env.layout, inputs=inputs))
    code, _ = run(env, "create", MemoryResources())
    assert code == 1
    assert message in (tmp_path / "termination-log").read_text()


@pytest.mark.parametrize(
    ("program", "seconds", "message"),
    [
        ("def f: f; f", 2, ": ran past 2 s (does it loop?)"),  # a loop that allocates nothing
        ("last(repeat(1))", 2, ": ran past 2 s (does it loop?)"),
        # grows until the child's address-space limit (libjq aborts), long before the deadline
        ('[range(1e9) | "0123456789" * 100000]', 120, ": jq failed (exit -6; out of memory?)"),
    ],
    ids=["recursion", "repeat", "memory"],
)
def test_a_looping_jq_filter_is_stopped_and_fails_the_node(tmp_path, monkeypatch, program, seconds, message):
    """jq runs in C, out of reach of a thread: the filter runs in a child process that is killed at the
    deadline or stopped by its memory limit (executor-sidecar/sluice_executor/jqfilter.py), and the pod
    finishes with the reason."""
    from sluice_executor import jqfilter

    monkeypatch.setattr(jqfilter, "SECONDS", seconds)
    outputs = {"parameters": [{"name": "q", "valueFrom": {"jqFilter": program}}]}
    code, results = run(
        env_for(tmp_path, {"action": "create", "manifest": CM}, outputs), "create", MemoryResources()
    )
    assert code == 1
    text = (tmp_path / "termination-log").read_text()
    assert text == f"output parameter q: jqFilter {program!r}{message}", text
    assert (
        results.result("wf-9", "ns")["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"]
        == "true"
    )


def test_jq_filter_runs_where_packages_come_from_pythonpath(tmp_path):
    """The Sluice image finds its packages through PYTHONPATH (images/install-sluice.sh), not a site
    folder: the jq child must keep that variable (it once ran with -I, which drops it). Reproduced with
    the interpreter under this virtualenv and the packages on PYTHONPATH only."""
    import os
    import site
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    path = os.pathsep.join([str(repo), str(repo / "executor-sidecar"), *site.getsitepackages()])
    python = getattr(sys, "_base_executable", sys.executable)

    def run(program: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", ""), **env}
        return subprocess.run(
            [python, "-s", "-c", program], env=env, capture_output=True, text=True, timeout=120
        )

    assert run("import jq", {}).returncode != 0, "the bare interpreter must not find jq by itself"
    done = run(
        "from sluice_executor import jqfilter; print(jqfilter.jq_filter({'a': [1, 2]}, '.a[]'))",
        {"PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1\n2\n"
