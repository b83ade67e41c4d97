"""`sluice run` with real processes: a v3 `synchronization.mutex` / `semaphore` takes its lock.

Two parallel steps call a template that holds a lock of capacity 1 and report when they started and
ended (their stdout is their result). With the lock, one runs after the other, whatever the load; before
workflow/parse/normalise.py the engine read only `mutexes` / `semaphores` and both ran at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REPORT = "import time; a = time.time(); time.sleep(1); print(a, time.time())"
SEMAPHORE = {"configMapKeyRef": {"name": "locks", "key": "one"}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "locks"}, "data": {"one": "1"}}


def workflow(sync: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "locked"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "a", "template": "locked"}, {"name": "b", "template": "locked"}],
                        [
                            {
                                "name": "show",
                                "template": "show",
                                "arguments": {
                                    "parameters": [
                                        {
                                            "name": "x",
                                            "value": "{{steps.a.outputs.result}} {{steps.b.outputs.result}}",
                                        }
                                    ]
                                },
                            }
                        ],
                    ],
                },
                {
                    "name": "locked",
                    "synchronization": sync,
                    "container": {"image": "python", "command": [sys.executable, "-c", REPORT]},
                },
                {
                    "name": "show",
                    "inputs": {"parameters": [{"name": "x"}]},
                    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.x}}"]},
                },
            ],
        },
    }


@pytest.mark.parametrize(
    "sync",
    [{"mutex": {"name": "one"}}, {"semaphore": SEMAPHORE}, {"mutexes": [{"name": "one"}]}],
    ids=["v3 mutex", "v3 semaphore", "v4 mutexes"],
)
def test_steps_holding_one_lock_run_one_after_the_other(tmp_path, sync):
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(workflow(sync)))
    config = tmp_path / "locks.yaml"
    config.write_text(yaml.safe_dump(CONFIG_MAP))
    env = dict(os.environ, SLUICE_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "sluice", "run", str(path), "--templates", str(config), "-o", "json", "--quiet"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=180, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)["status"]
    assert status["phase"] == "Succeeded"
    spans = sorted(
        tuple(float(t) for t in node["outputs"]["result"].split())
        for node in status["nodes"].values()
        if node["displayName"] in ("a", "b")
    )
    assert len(spans) == 2
    (_, first_end), (second_start, _) = spans
    assert second_start >= first_end, f"the two holders overlapped: {spans}"
