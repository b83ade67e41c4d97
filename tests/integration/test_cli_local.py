"""`sluice list|get|logs|delete --local` on runs that `sluice run` keeps (sluice/localruns.py): real
`sluice run` processes, their run directories under a test-owned SLUICE_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import yaml

from tests.integration.cli_support import REPO, sluice


def workflow(name: str, exit_code: int) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": "hello", "template": "say"}]]},
                {
                    "name": "say",
                    "container": {
                        "image": "busybox",
                        "command": ["sh", "-c"],
                        "args": [f"echo one; echo two from {name}; exit {exit_code}"],
                    },
                },
            ],
        },
    }


def test_local_runs_are_listed_shown_logged_and_deleted(tmp_path):
    home = tmp_path / "home"
    for name, code in (("good", 0), ("bad", 3)):
        path = tmp_path / f"{name}.yaml"
        doc = workflow(name, code)
        doc["metadata"]["labels"] = {"team": "a" if code else "b"}
        path.write_text(yaml.safe_dump(doc))
        assert sluice(home, "run", str(path)).returncode == (0 if code == 0 else 1)

    listed = sluice(home, "list", "--local")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()[1:]}
    assert rows == {"good": "Succeeded", "bad": "Failed"}
    assert (
        sluice(home, "list", "--local", "--completed", "--status", "Failed", "-o", "name").stdout == "bad\n"
    )

    assert sluice(home, "list", "--local", "-l", "team=a", "-o", "name").stdout == "bad\n"
    assert sluice(home, "list", "--local", "-l", "team!=a,team", "-o", "name").stdout == "good\n"
    assert sluice(home, "list", "--local", "-l", "a=b=c").returncode == 2
    assert sluice(home, "list", "--local", "-A").returncode == 2
    assert sluice(home, "delete", "--local", "--all", "-l", "team=nobody", "--dry-run").stdout == ""

    shown = sluice(home, "get", "good", "--local")
    assert shown.returncode == 0 and "Status:   Succeeded" in shown.stdout and "✔ hello" in shown.stdout
    assert (
        json.loads(sluice(home, "get", "bad", "--local", "-o", "json").stdout)["status"]["phase"] == "Failed"
    )

    logs = sluice(home, "logs", "good", "--local")
    assert logs.returncode == 0 and logs.stdout == "hello: one\nhello: two from good\n"
    assert sluice(home, "logs", "bad", "hello", "--local", "--tail", "1").stdout == "two from bad\n"
    assert sluice(home, "logs", "bad", "nope", "--local").returncode == 3
    assert sluice(home, "logs", "bad", "--local", "--grep", "from").stdout == "hello: two from bad\n"
    assert sluice(home, "logs", "bad", "--local", "--since", "1m").returncode == 2

    deleted = sluice(home, "delete", "--local", "--completed", "--status", "Failed")
    assert deleted.returncode == 0 and deleted.stdout == "local run bad deleted\n"
    assert not (home / "runs" / "bad").exists() and (home / "runs" / "good").is_dir()
    missing = sluice(home, "get", "bad", "--local")
    assert missing.returncode == 3 and missing.stderr.startswith("sluice get: no local run named 'bad'")
    assert sluice(home, "delete", "good", "--local").returncode == 0
    assert sluice(home, "list", "--local").stderr == f"No workflows found in {home / 'runs'}.\n"


def test_logs_local_follow_shows_lines_while_the_run_goes_on(tmp_path):
    home, gate = tmp_path / "home", tmp_path / "go"
    doc = workflow("followed", 0)
    doc["spec"]["templates"][1]["container"]["args"] = [
        f"echo first; while [ ! -f {gate} ]; do sleep 0.1; done; echo second"
    ]
    # The gate reaches the step through a hostPath volume, as it would reach a pod: a step's own view of
    # the filesystem (sluice/runner/cowroot.py) need not see a host file made after the step started.
    doc["spec"]["volumes"] = [{"name": "gate", "hostPath": {"path": str(tmp_path)}}]
    doc["spec"]["templates"][1]["container"]["volumeMounts"] = [{"name": "gate", "mountPath": str(tmp_path)}]
    path = tmp_path / "followed.yaml"
    path.write_text(yaml.safe_dump(doc))
    # The step waits for a file the test creates: it must see the host's files as they change, so it runs
    # without its copy-on-write view of / (sluice/runner/cowroot.py), which would hide the new file.
    env = dict(os.environ, SLUICE_HOME=str(home), SLUICE_RUN_ISOLATION="paths")
    command = [sys.executable, "-m", "sluice"]
    run = subprocess.Popen(
        [*command, "run", str(path)], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    follow = None
    try:
        deadline = time.monotonic() + 120
        while not (home / "runs" / "followed" / "workflow.json").is_file():
            assert time.monotonic() < deadline and run.poll() is None, "the run never started"
            time.sleep(0.1)
        follow = subprocess.Popen(
            [*command, "logs", "followed", "--local", "-f"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert follow.stdout.readline() == "hello: first\n"
        assert run.poll() is None  # the step is still waiting: the line came while it ran
        gate.touch()
        assert follow.stdout.readline() == "hello: second\n"
        assert follow.wait(120) == 0 and follow.stdout.read() == ""  # ends with the run
        assert run.wait(120) == 0
    finally:
        run.kill()
        if follow is not None:
            follow.kill()


def test_bash_completion_completes_verbs_sub_verbs_and_flags(tmp_path):
    script = sluice(tmp_path, "completion", "bash")
    assert script.returncode == 0
    (tmp_path / "c.bash").write_text(script.stdout)

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        probe = (
            f"source {tmp_path / 'c.bash'}; COMP_WORDS=(sluice {line}); COMP_CWORD={len(words)}; "
            '_sluice; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        return subprocess.run(
            ["bash", "-c", probe], capture_output=True, text=True, timeout=30
        ).stdout.split()

    assert complete("subm") == ["submit"]
    assert set(complete("cron", "s")) == {"suspend"}
    assert set(complete("submit", "--w")) == {"--wait", "--watch"}
    assert "--node-field-selector" in complete("retry", "x", "--no")
    assert "-n" in complete("template", "list", "-")
