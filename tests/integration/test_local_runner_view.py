"""`sluice run` gives each step its own copy-on-write view of the filesystem where the kernel allows it
(issue 13 item 12; sluice/runner/cowroot.py), and says so when it falls back to moving paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from sluice.runner import cowroot

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, doc: dict, **env: str) -> subprocess.CompletedProcess:
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    return subprocess.run(
        [sys.executable, "-m", "sluice", "run", str(path), "-o", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, SLUICE_HOME=str(tmp_path / "home"), **env),
        cwd=REPO,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


VIEW = cowroot.available(str(Path.home()))
needs_view = pytest.mark.skipif(bool(VIEW), reason=f"no per-step view on this machine: {VIEW}")


def map_outputs_to_inputs(names: list[str], host_file: Path) -> dict:
    """As Hera's map-outputs-to-inputs: a script writes its declared outputs at paths it builds at run
    time (`open(f'/{name}', 'w')`), here also over a file the host has."""
    source = "\n".join(
        [
            f"for name in {names!r}:",
            "    with open(f'/{name}', 'w') as f:",
            "        f.write(f'value of {name}')",
            f"open({str(host_file)!r}, 'w').write('the step wrote this')",
        ]
    )
    outputs = [{"name": n, "valueFrom": {"path": f"/{n}"}} for n in names]
    outputs.append({"name": "host", "valueFrom": {"path": str(host_file)}})
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "map-outputs"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "script": {"image": "python:3.11", "command": ["python"], "source": source},
                    "outputs": {"parameters": outputs},
                }
            ],
        },
    }


@needs_view
def test_a_path_built_at_run_time_stays_in_the_steps_layer(tmp_path):
    names = [f"sluice-test-{uuid.uuid4().hex[:12]}-{c}" for c in "abc"]
    host_file = tmp_path / "host.txt"
    host_file.write_text("the host's")
    result = run(tmp_path, map_outputs_to_inputs(names, host_file))
    assert result.returncode == 0, result.stderr
    # Nothing reached the host: not the new files in /, not the host file the step overwrote.
    assert not [n for n in names if Path("/", n).exists()]
    assert host_file.read_text() == "the host's"
    # The outputs were found, in the step's own layer.
    node = next(n for n in json.loads(result.stdout)["status"]["nodes"].values() if n["type"] == "Pod")
    params = {p["name"]: p["value"] for p in node["outputs"]["parameters"]}
    assert params == {**{n: f"value of {n}" for n in names}, "host": "the step wrote this"}
    assert "share this machine's filesystem" not in result.stderr


@needs_view
def test_volumes_are_shared_between_steps_and_other_writes_are_not(tmp_path):
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "volumes"},
        "spec": {
            "entrypoint": "main",
            "volumeClaimTemplates": [
                {"metadata": {"name": "work"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
            ],
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "write", "template": "write"}],
                        [{"name": "read", "template": "read"}],
                    ],
                },
                {
                    "name": "write",
                    "script": {
                        "image": "alpine",
                        "command": ["sh"],
                        "source": "echo shared > /mnt/work/f && echo private > /tmp/private-f",
                        "volumeMounts": [{"name": "work", "mountPath": "/mnt/work"}],
                    },
                },
                {
                    "name": "read",
                    "script": {
                        "image": "alpine",
                        "command": ["sh"],
                        "source": "cat /mnt/work/f; test -e /tmp/private-f && echo seen || echo unseen",
                        "volumeMounts": [{"name": "work", "mountPath": "/mnt/work"}],
                    },
                    "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/mnt/work/f"}}]},
                },
            ],
        },
    }
    result = run(tmp_path, doc)
    assert result.returncode == 0, result.stderr
    assert "shared" in result.stdout and "unseen" in result.stdout
    assert not Path("/tmp/private-f").exists() or Path("/tmp/private-f").read_text() != "private\n"


def test_without_a_view_the_run_says_it_moves_paths(tmp_path):
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "fallback"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "script": {"image": "alpine", "command": ["sh"], "source": "echo hi > /tmp/out"},
                    "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
                }
            ],
        },
    }
    result = run(tmp_path, doc, **{cowroot.DISABLE_VAR: "paths"})
    assert result.returncode == 0, result.stderr
    assert (
        "share this machine's filesystem" in result.stderr and f"{cowroot.DISABLE_VAR}=paths" in result.stderr
    )
    node = next(n for n in json.loads(result.stdout)["status"]["nodes"].values() if n["type"] == "Pod")
    assert node["outputs"]["parameters"][0]["value"] == "hi"


@needs_view
def test_container_set_members_starting_together_each_enter_their_view(tmp_path):
    """A containerSet's members share the pod's layer; started together, each mounts its own view
    (they once shared overlayfs's work directory, and a mount emptying it made another's fail)."""
    members = [{"name": "first", "image": "busybox", "command": ["true"]}]
    members += [
        {
            "name": f"m{i}",
            "image": "busybox",
            "command": ["sh", "-c", f"echo {i} > /member-{i} && cat /member-{i}"],
            "dependencies": ["first"],
        }
        for i in range(6)
    ]
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "together-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "containerSet": {"containers": members}}],
        },
    }
    for attempt in range(4):
        result = run(tmp_path, doc)
        assert result.returncode == 0, f"attempt {attempt}: {result.stderr}"
        phases = {n["displayName"]: n["phase"] for n in json.loads(result.stdout)["status"]["nodes"].values()}
        assert set(phases.values()) == {"Succeeded"}, phases
        assert not list(Path("/").glob("member-*"))  # each member's write stayed in the pod's layer
