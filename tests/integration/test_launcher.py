"""The launcher (executor-sidecar/launcher) as a real process: exit codes, signals to the process group,
stdout/combined, outputs copied from a directory, a command that cannot start, and an image that holds
nothing but the launcher and one static program."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.launcher_build import REPO, build

WAIT = 60  # seconds: generous, the machine is shared


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


def env_for(run_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGO_")}
    env.update(SLUICE_RUN_DIR=str(run_dir), SLUICE_TERMINATION_LOG=str(run_dir / "termination-log"))
    env.update(extra)
    return env


def launch(launcher: Path, run_dir: Path, *command: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(launcher), "--", *command],
        env=env_for(run_dir, **extra),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def ctr(run_dir: Path, name: str = "main") -> Path:
    return run_dir / "ctr" / name


@pytest.mark.parametrize(("script", "code"), [("exit 0", 0), ("exit 1", 1), ("kill -KILL $$", 137)])
def test_exit_code_is_the_commands(launcher_bin, tmp_path, script, code):
    done = launch(launcher_bin, tmp_path, "sh", "-c", script)
    assert done.returncode == code
    assert (ctr(tmp_path) / "exitcode").read_text() == str(code)


def test_arguments_reach_the_command_untouched(launcher_bin, tmp_path):
    args = ["a b", "$HOME", "*", "'q'", "--", "-x", ""]
    done = launch(launcher_bin, tmp_path, "printf", "[%s]\\n", *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(f"[{a}]\n" for a in args)
    assert (ctr(tmp_path) / "stdout").read_text() == done.stdout


def test_combined_has_both_streams(launcher_bin, tmp_path):
    done = launch(launcher_bin, tmp_path, "sh", "-c", "echo one; echo two >&2; echo three")
    assert done.returncode == 0
    assert (ctr(tmp_path) / "stdout").read_text() == "one\nthree\n"
    assert sorted((ctr(tmp_path) / "combined").read_text().splitlines()) == ["one", "three", "two"]
    assert done.stderr == "two\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_reaches_the_process_group(launcher_bin, tmp_path, sig):
    marker = tmp_path / "grandchild-ended"
    # The shell traps the signal and exits 7, but only once its foreground child `sleep` (a grandchild of
    # the launcher) has ended: the sleep must get the signal too, or this would take 120 s.
    script = f"trap 'echo trapped; exit 7' {sig.name[3:]}; sleep 120; touch {marker}"
    proc = subprocess.Popen(
        [str(launcher_bin), "--", "sh", "-c", script],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not _has_child_sleep(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _has_child_sleep(proc.pid), "the command never started its sleep"
        started = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 7
    assert "trapped" in out
    assert not marker.exists()
    assert time.monotonic() - started < 100  # well under the sleep's 120 s
    assert (ctr(tmp_path) / "exitcode").read_text() == "7"


def _has_child_sleep(pid: int) -> bool:
    """Is a `sleep` running in the process group the launcher made for the command?"""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # fields[1] is ppid, fields[2] the process group; the group leader is the launcher's child (sh)
        if cmdline.startswith(b"sleep\x00") and _parent(int(fields[1])) == pid:
            return True
    return False


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def test_outputs_from_a_directory(launcher_bin, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    run_dir = tmp_path / "run"
    tmpl = {
        "outputs": {
            "parameters": [{"name": "p", "valueFrom": {"path": f"{work}/param.txt"}}],
            "artifacts": [{"name": "tree", "path": f"{work}/out"}],
        }
    }
    script = (
        f"cd {work} && mkdir -p out/a/b && echo 1 > out/a/one && echo 2 > out/a/b/two && echo v > param.txt"
    )
    done = launch(launcher_bin, run_dir, "sh", "-c", script, ARGO_TEMPLATE=json.dumps(tmpl))
    assert done.returncode == 0, done.stderr
    copied = run_dir / "outputs" / "artifacts" / str(work).lstrip("/") / "out"
    assert (copied / "a" / "one").read_text() == "1\n"
    assert (copied / "a" / "b" / "two").read_text() == "2\n"
    assert (run_dir / "outputs" / "parameters" / str(work).lstrip("/") / "param.txt").read_text() == "v\n"


def test_template_file_written_by_init_is_read(launcher_bin, tmp_path):
    (tmp_path / "template").write_text(
        json.dumps({"outputs": {"parameters": [{"name": "p", "valueFrom": {"path": f"{tmp_path}/p"}}]}})
    )
    done = launch(launcher_bin, tmp_path, "sh", "-c", f"echo hi > {tmp_path}/p")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "outputs" / "parameters" / str(tmp_path).lstrip("/") / "p").read_text() == "hi\n"


@pytest.mark.parametrize("command", [["/no/such/program"], ["no-such-program-on-path"]])
def test_a_command_that_cannot_start(launcher_bin, tmp_path, command):
    done = launch(launcher_bin, tmp_path, *command)
    assert done.returncode == 64
    assert (ctr(tmp_path) / "exitcode").read_text() == "64"
    message = (tmp_path / "termination-log").read_text()
    assert command[0] in message
    assert "no such file" in message.lower() or "not found" in message.lower()
    assert command[0] in done.stderr


def test_runs_in_an_image_holding_nothing_else(launcher_bin, tmp_path):
    """No shell, no libc, no /proc: a root with the launcher and one static program only (chroot)."""
    if os.geteuid() != 0:
        pytest.skip("chroot needs root (CI runs as root)")
    # the one program: the repository's own static argosay (Go, CGO off), built here
    root = tmp_path / "root"
    (root / "var/run/argo").mkdir(parents=True)
    build_env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-buildvcs=false")
    built = subprocess.run(
        ["go", "build", "-o", str(root / "argosay"), "."],
        cwd=REPO / "cluster/images/argosay",
        env=build_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    shutil.copy(launcher_bin, root / "launcher")
    assert sorted(p.name for p in root.iterdir()) == ["argosay", "launcher", "var"]
    env = {"ARGO_CONTAINER_NAME": "main", "SLUICE_TERMINATION_LOG": "/var/run/argo/termination-log"}

    def enter() -> None:
        os.chroot(root)
        os.chdir("/")

    done = subprocess.run(
        ["/launcher", "--", "/argosay", "echo", "hello from nothing"],
        env=env,
        preexec_fn=enter,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello from nothing\n"
    assert (root / "var/run/argo/ctr/main/exitcode").read_text() == "0"
    failed = subprocess.run(
        ["/launcher", "--", "/argosay", "exit", "3"],
        env=env,
        preexec_fn=enter,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert failed.returncode == 3
    assert (root / "var/run/argo/ctr/main/exitcode").read_text() == "3"


def test_go_tests_of_the_launcher_pass():
    """The launcher's own Go tests (executor-sidecar/launcher/launch_test.go) run with the Python tiers."""
    src = REPO / "executor-sidecar" / "launcher"
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-buildvcs=false")
    done = subprocess.run(
        ["go", "test", "-count=1", "./..."], cwd=src, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
