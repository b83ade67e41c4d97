"""`sluice run` keeps a workflow's paths and keys inside the run (issue 13 item 5): each attack of the
issue, rebuilt, with what must hold afterwards (no file outside the run touched, no host file read
into the status, a clear error on the node)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, doc: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    # The run lives four levels below tmp_path, so "../../../../x" from inside it lands in tmp_path.
    home = tmp_path / "a" / "b" / "c" / "home"
    env = dict(os.environ, SLUICE_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "sluice", "run", str(path), "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def workflow(name: str, *templates: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": list(templates)},
    }


def node(result: subprocess.CompletedProcess) -> dict:
    nodes = json.loads(result.stdout)["status"]["nodes"]
    return next(n for n in nodes.values() if n["type"] == "Pod")


def sh(name: str, script: str, **fields) -> dict:
    return {"name": name, "script": {"image": "alpine", "command": ["sh"], "source": script}, **fields}


def outside_home(root: Path) -> set[str]:
    """Every file under root that is not in the run's own home (SLUICE_HOME)."""
    home = root / "a" / "b" / "c" / "home"
    return {str(p) for p in root.rglob("*") if p.is_file() and not p.is_relative_to(home)}


def test_output_artifact_key_with_dotdot_does_not_delete_outside_the_run(tmp_path):
    victim = tmp_path / "somewhere"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    out = {"name": "a", "path": "/tmp/d", "archive": {"none": {}}, "s3": {"key": "../../../../somewhere"}}
    # Written literally, lint refuses the key (on its field); from a parameter, the run must confine it.
    refused = run(tmp_path, workflow("out-key", sh("main", "true", outputs={"artifacts": [out]})))
    assert refused.returncode != 0
    assert "spec.templates[0].outputs.artifacts[0].s3.key" in refused.stdout + refused.stderr
    templated = dict(out, s3={"key": "{{inputs.parameters.k}}"})
    doc = workflow(
        "out-key",
        sh(
            "main",
            "mkdir -p /tmp/d && echo x > /tmp/d/f",
            outputs={"artifacts": [templated]},
            inputs={"parameters": [{"name": "k", "value": "../../../../somewhere"}]},
        ),
    )
    result = run(tmp_path, doc)
    assert (victim / "precious.txt").read_text() == "keep me"
    n = node(result)
    assert n["phase"] in ("Failed", "Error")
    assert "leaves the artifact directory" in n.get("message", "")


def test_raw_input_artifact_path_with_dotdot_stays_in_the_node(tmp_path):
    before = outside_home(tmp_path)
    doc = workflow(
        "raw-in",
        sh(
            "main",
            "true",
            inputs={
                "artifacts": [
                    {
                        "name": "r",
                        "path": "/tmp/../../../../../../../" + str(tmp_path).lstrip("/") + "/escaped.txt",
                        "raw": {"data": "pwned"},
                    }
                ]
            },
        ),
    )
    run(tmp_path, doc)
    assert not (tmp_path / "escaped.txt").exists()
    assert outside_home(tmp_path) - before == {str(tmp_path / "wf.yaml")}


def test_input_key_with_dotdot_does_not_read_a_host_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    art = {
        "name": "s",
        "path": "/tmp/in.txt",
        "archive": {"none": {}},
        "s3": {"key": "{{inputs.parameters.k}}"},
    }
    inputs = {"parameters": [{"name": "k", "value": "../../../../secret.txt"}], "artifacts": [art]}
    result = run(tmp_path, workflow("in-key", sh("main", "cat /tmp/in.txt", inputs=inputs)))
    n = node(result)
    assert "top secret" not in result.stdout + result.stderr
    assert n["phase"] in ("Failed", "Error")
    assert "leaves the artifact directory" in n.get("message", "")


def test_output_parameter_from_etc_shadow_is_not_read():
    """A host file only its owner may read never reaches the status (in a container this would be the
    image's file; locally it would be the host's)."""
    shadow = Path("/etc/shadow")
    assert shadow.exists() and not shadow.stat().st_mode & stat.S_IROTH
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    doc = workflow(
        "param",
        sh("main", "true", outputs={"parameters": [{"name": "p", "valueFrom": {"path": "/etc/shadow"}}]}),
    )
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp) as d:
        result = run(Path(d), doc)
    n = node(result)
    assert "root:" not in result.stdout
    assert n["phase"] in ("Failed", "Error")
    assert "/etc/shadow" in n.get("message", "")
