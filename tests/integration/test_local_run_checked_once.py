"""`sluice run` checks a workflow once: the command's check (sluice/commands/run.py) tells the runner's first
engine step (RunOptions.checked -> Observed.checked), which does not run the same check again
(workflow/engine/operate.py `_validate`). A real `sluice run` process, its calls of the core's check
counted where each caller looks the function up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.cli_support import REPO

pytestmark = pytest.mark.integration

COUNTING = """
import json, sys
import workflow.check, workflow.engine.operate
from sluice.cli import main
calls = []
def counted(real, who):
    def call(*args, **kwargs):
        calls.append(who)
        return real(*args, **kwargs)
    return call
workflow.check.check_object = counted(workflow.check.check_object, "command")
workflow.engine.operate.check_object = counted(workflow.engine.operate.check_object, "engine")
try:
    code = main(sys.argv[1:])
finally:
    print(json.dumps(calls), file=sys.stderr)
sys.exit(code)
"""


def run_counted(tmp_path: Path, doc: dict) -> tuple[int, list[str], str]:
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = subprocess.run(
        [sys.executable, "-c", COUNTING, "run", str(path), "--quiet"],
        capture_output=True,
        text=True,
        env=dict(os.environ, SLUICE_HOME=str(tmp_path / "home")),
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    *_, last = result.stderr.strip().splitlines()
    return result.returncode, json.loads(last), result.stderr


def workflow(template: str) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "checked-once"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": "a", "template": template}]]},
                {"name": "t", "container": {"image": "busybox", "command": ["true"]}},
            ],
        },
    }


def test_a_valid_workflow_is_checked_by_the_command_alone_and_runs(tmp_path):
    code, calls, stderr = run_counted(tmp_path, workflow("t"))
    assert code == 0, stderr
    assert calls == ["command"]


def test_an_invalid_workflow_is_refused_by_the_command_and_never_stepped(tmp_path):
    code, calls, stderr = run_counted(tmp_path, workflow("missing"))
    assert code == 1
    assert "is not valid" in stderr
    assert calls == ["command"]
