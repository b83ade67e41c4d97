"""`sluice run` with real processes, on what issue 14 found answered wrong: `{{inputs.parameters}}`
everywhere, tagged artifact names, a reused `--name` that starts clean instead of mixing two runs' files
(and run names refused while in use or invalid), a `tty` container, hostAliases refused."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

from tests.integration.cli_support import REPO, sluice, start


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    return path


def test_the_whole_input_list_is_json_even_without_inputs(tmp_path):
    # Hera's runner constructor reads its arguments from `source: '{{inputs.parameters}}'`.
    path = write(
        tmp_path,
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: runner}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: none, template: none}
      - {name: some, template: some, arguments: {parameters: [{name: a, value: "1"}]}}
  - name: none
    script: {image: python:3.9, command: [cat], source: '{{inputs.parameters}}'}
  - name: some
    inputs: {parameters: [{name: a}]}
    script: {image: python:3.9, command: [cat], source: '{{inputs.parameters}}'}
""",
    )
    result = sluice(tmp_path / "home", "run", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.endswith(": null") for line in lines), result.stdout
    assert any(line.endswith(': [{"name":"a","value":"1"}]') for line in lines), result.stdout


def test_an_output_artifact_named_with_an_input_tag_is_saved_under_the_substituted_name(tmp_path):
    path = write(
        tmp_path,
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tagged}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
        arguments: {parameters: [{name: variable, value: one}]}
  - name: gen
    inputs: {parameters: [{name: variable}]}
    container: {image: busybox, command: [sh, -c], args: ["echo hi > /tmp/out.txt"]}
    outputs:
      artifacts:
      - name: result-{{inputs.parameters.variable}}
        path: /tmp/out.txt
""",
    )
    result = sluice(tmp_path / "home", "run", str(path), "-o", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    nodes = {n["displayName"]: n for n in json.loads(result.stdout)["status"]["nodes"].values()}
    assert [a["name"] for a in nodes["gen"]["outputs"]["artifacts"]] == ["result-one"]


VOLUME = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: workdir-}
spec:
  entrypoint: main
  volumes:
  - {name: workdir, emptyDir: {}}
  templates:
  - name: main
    container:
      image: busybox
      command: [sh, -c]
      args: ["mkdir /mnt/work/out && echo made"]
      volumeMounts:
      - {name: workdir, mountPath: /mnt/work}
"""


def test_reusing_a_name_starts_clean_and_never_sees_the_previous_runs_volumes(tmp_path):
    # Issue 14: the second run failed with "mkdir: can't create directory '.../volumes/workdir/out':
    # File exists", the first run's emptyDir still there.
    path = write(tmp_path, VOLUME)
    home = tmp_path / "home"
    first = sluice(home, "run", str(path), "--name", "again")
    assert first.returncode == 0, first.stderr
    second = sluice(home, "run", str(path), "--name", "again")
    assert second.returncode == 0, second.stderr
    assert 'starting clean: the files of the previous run "again" were removed' in second.stderr
    assert "File exists" not in second.stderr and str(home) not in second.stderr


def test_a_name_that_is_running_is_refused_and_the_running_one_is_untouched(tmp_path):
    home = tmp_path / "home"
    gate = REPO / "examples" / "suspend-gate.yaml"
    proc = start(home, "run", str(gate), "--name", "busy", "--quiet", "-o", "json")
    try:
        status = home / "runs" / "busy" / "workflow.json"
        deadline = time.time() + 90
        while not status.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert status.exists(), "the first run never wrote its status"
        second = sluice(home, "run", str(gate), "--name", "busy")
        assert second.returncode == 1
        assert second.stderr.startswith('sluice run: workflow "busy" is already running (pid ')
        assert second.stderr.rstrip().endswith("choose another --name")
        assert status.exists()
    finally:
        proc.kill()
        proc.communicate(timeout=60)


def test_two_runs_started_at_once_with_one_name_one_runs_and_the_other_is_refused(tmp_path):
    # The name used to be checked well before the run wrote its pid: two runs started together both
    # found the name free and ran in one directory. Now exactly one holds the name's lock.
    home = tmp_path / "home"
    gate = REPO / "examples" / "suspend-gate.yaml"
    procs = [start(home, "run", str(gate), "--name", "twice", "--quiet", "-o", "json") for _ in range(2)]
    try:
        deadline = time.time() + 120
        while all(p.poll() is None for p in procs) and time.time() < deadline:
            time.sleep(0.2)
        done = [p for p in procs if p.poll() is not None]
        assert len(done) == 1, "neither run was refused: both took the name"
        _, err = done[0].communicate(timeout=60)
        assert done[0].returncode == 1
        assert err.startswith('sluice run: workflow "twice" is already running'), err
        running = next(p for p in procs if p is not done[0])
        status = home / "runs" / "twice" / "workflow.json"
        while not status.exists() and running.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert status.exists() and running.poll() is None, "the run that holds the name is not running"
    finally:
        for proc in procs:
            proc.kill()
            proc.communicate(timeout=60)


def test_a_home_that_cannot_hold_runs_is_a_clear_error(tmp_path):
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    result = sluice(home, "run", str(REPO / "examples" / "hello-world.yaml"), "--name", "nowhere")
    assert result.returncode == 1
    assert result.stderr.startswith(f"sluice run: cannot set up the run under {home}: "), result.stderr
    assert "Traceback" not in result.stderr


def test_a_name_the_api_server_would_refuse_is_refused_before_anything_is_written(tmp_path):
    path = write(tmp_path, VOLUME)
    home = tmp_path / "home"
    result = sluice(home, "run", str(path), "--name", "../escape")
    assert result.returncode == 1
    assert result.stderr == (
        f'sluice run: {path}: metadata.name: Invalid value: "../escape": a lowercase RFC 1123 subdomain must '
        "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character\n"
    )
    assert not (tmp_path / "escape").exists() and not home.exists()
    assert yaml.safe_load(path.read_text())["metadata"] == {"generateName": "workdir-"}


TTY = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tty}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: with, template: with}
      - {name: without, template: without}
    - - name: show
        template: show
        arguments: {parameters: [{name: r, value: "{{steps.with.outputs.result}}"}]}
  - name: with
    container:
      image: busybox
      tty: true
      command: [sh, -c]
      args: ["if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo on a terminal; else exit 3; fi; echo to-stderr >&2"]
  - name: without
    container:
      image: busybox
      command: [sh, -c]
      args: ["if [ -t 1 ]; then exit 3; fi; echo no terminal"]
  - name: show
    inputs: {parameters: [{name: r}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.r}}"]}
"""


def test_a_tty_container_gets_a_terminal_and_one_output_stream(tmp_path):
    result = sluice(tmp_path / "home", "run", str(write(tmp_path, TTY)), "-o", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    nodes = {n["displayName"]: n for n in json.loads(result.stdout)["status"]["nodes"].values()}
    assert nodes["with"]["phase"] == nodes["without"]["phase"] == "Succeeded"
    # A pod's tty merges stderr into stdout; output processing is off, so lines end in "\n" only.
    assert nodes["show"]["inputs"]["parameters"][0]["value"] == "on a terminal\nto-stderr"


HOST_ALIASES = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: host-aliases}
spec:
  entrypoint: main
  hostAliases:
  - ip: "127.0.0.1"
    hostnames: [foo.local, bar.local]
  templates:
  - name: main
    container: {image: alpine:3.23, command: [sh, -c], args: ["ping -c 1 foo.local"]}
"""


def test_host_aliases_cannot_run_locally_and_say_why(tmp_path):
    result = sluice(tmp_path / "home", "run", str(write(tmp_path, HOST_ALIASES)), "-o", "json", "--quiet")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    nodes = {n["displayName"]: n for n in json.loads(result.stdout)["status"]["nodes"].values()}
    assert nodes["host-aliases"]["message"] == (
        "hostAliases add names to the pod's /etc/hosts, which the local runner cannot provide"
    )


def test_the_conformance_list_puts_host_aliases_among_what_cannot_run_locally():
    sys.path.insert(0, str(REPO / "tests" / "conformance"))
    try:
        from local_examples import blockers
    finally:
        sys.path.pop(0)
    doc = yaml.safe_load(HOST_ALIASES)
    assert blockers(doc, {}) == ["hostAliases need the pod's /etc/hosts"]
    doc["spec"]["templates"][0]["hostAliases"] = doc["spec"].pop("hostAliases")
    assert blockers(doc, {}) == ["hostAliases need the pod's /etc/hosts"]
