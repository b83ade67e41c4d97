"""`sluice run` ends what a step left running when its main exits, as a container's end does (issue
13 item 11): a background child that ignores SIGTERM, a `nohup` child and a `setsid` child."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def alive_with(marker: str) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            out.append(int(name))
    return out


def test_children_of_a_step_do_not_outlive_it(tmp_path):
    marker = f"{os.getpid()}{time.monotonic_ns()}"  # a sleep length nobody else uses
    script = f"""
(trap '' TERM; exec sleep 1{marker}) &
nohup sleep 2{marker} >/dev/null 2>&1 &
setsid sleep 3{marker} >/dev/null 2>&1 < /dev/null &
echo started
"""
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "left"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "script": {"image": "alpine", "command": ["sh"], "source": script}}
            ],
        },
    }
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    env = dict(os.environ, SLUICE_HOME=str(tmp_path / "home"))
    try:
        # Before: the run waited on the background child holding its output (the step never ended).
        result = subprocess.run(
            [sys.executable, "-m", "sluice", "run", str(path), "-o", "json", "--quiet"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert json.loads(result.stdout)["status"]["phase"] == "Succeeded", result.stderr
        assert alive_with(marker) == []
    finally:
        for pid in alive_with(marker):
            os.kill(pid, 9)
