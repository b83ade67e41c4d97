"""A Sluice pod's executor on this machine: init stages, main runs under the real launcher, wait collects
and reports. The task result API is a recorder; the artifact store is a directory (drivers/directory.py)
here, a real MinIO in test_executor_s3.py."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from sluice_executor.drivers import DriverError, Unsupported
from sluice_executor.drivers.directory import DirectoryDriver
from sluice_executor.drivers.raw import RawDriver
from sluice_executor.init import run_init
from sluice_executor.podenv import PodEnv, PodEnvError
from sluice_executor.wait import Waiter

from tests.integration.executor_support import RecordingAPI, pod_env, run_main
from tests.integration.launcher_build import build
from workflow.labels import LABEL_OUTPUTS_COMPLETED

REPO_LOCATION = {
    "archiveLogs": False,
    "s3": {"bucket": "local", "endpoint": "store", "key": "wf-1/wf-1-step-123"},
}


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


def drivers_for(store: Path):
    def drivers(kind: str):
        if kind == "s3":
            return DirectoryDriver(store)
        if kind == "raw":
            return RawDriver()
        raise Unsupported(f"{kind} not in this test")

    return drivers


def wait(env, api, store) -> int:
    return asyncio.run(Waiter(env, api, drivers_for(store)).run())


def script_template(source: str, **extra) -> dict:
    return {
        "name": "t",
        "script": {"image": "alpine", "command": ["sh"], "source": source},
        "archiveLocation": REPO_LOCATION,
        **extra,
    }


def test_script_pod_reports_result_parameters_and_artifacts(launcher_bin, tmp_path, store):
    work = tmp_path / "work"
    work.mkdir()
    tmpl = script_template(
        f"echo hello; echo -n 42 > {work}/answer; mkdir -p {work}/out/sub; echo x > {work}/out/sub/f",
        outputs={
            "parameters": [{"name": "answer", "valueFrom": {"path": f"{work}/answer"}, "globalName": "g"}],
            "artifacts": [{"name": "tree", "path": f"{work}/out"}],
        },
    )
    env = pod_env(tmp_path, tmpl, include_result=True)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    assert (env.layout.staging / "script").read_text() == tmpl["script"]["source"]
    assert (env.layout.run / "launcher").stat().st_mode & 0o111
    assert (env.layout.template.stat().st_mode & 0o777) == 0o444
    main = run_main(env.layout.run / "launcher", env, "sh", str(env.layout.staging / "script"))
    assert main.returncode == 0, main.stderr
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    result = api.result("wf-1-123")
    assert result["metadata"]["labels"] == {
        "workflows.argoproj.io/workflow": "wf-1",
        LABEL_OUTPUTS_COMPLETED: "true",
    }
    assert result["metadata"]["ownerReferences"][0] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "name": "wf-1",
        "uid": "uid-1",
    }
    outputs = result["outputs"]
    assert outputs["result"] == "hello"
    assert outputs["exitCode"] == "0"
    assert outputs["parameters"] == [
        {"name": "answer", "valueFrom": {"path": f"{work}/answer"}, "globalName": "g", "value": "42"}
    ]
    [art] = outputs["artifacts"]
    assert art["s3"] == {"key": "wf-1/wf-1-step-123/tree.tgz"}
    with tarfile.open(store / "wf-1/wf-1-step-123/tree.tgz") as tar:
        assert sorted(tar.getnames()) == ["out", "out/sub", "out/sub/f"]
    # the order an observer sees: created incomplete first, completed last
    assert (
        api.calls[0][0] == "create"
        and api.calls[0][2]["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "false"
    )
    assert api.calls[-1] == ("patch", "wf-1-123", {"metadata": {"labels": {LABEL_OUTPUTS_COMPLETED: "true"}}})


@pytest.mark.parametrize("with_default", [True, False])
def test_missing_output_parameter(launcher_bin, tmp_path, store, with_default):
    value_from = {"path": "/nonexistent/sluice/out.txt"}
    if with_default:
        value_from["default"] = "fallback"
    tmpl = script_template("true", outputs={"parameters": [{"name": "p", "valueFrom": value_from}]})
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    assert run_main(env.layout.launcher, env, "true").returncode == 0
    api = RecordingAPI()
    code = wait(env, api, store)
    result = api.result("wf-1-123")
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"  # finished either way
    if with_default:
        assert code == 0
        assert result["outputs"]["parameters"][0]["value"] == "fallback"
    else:
        assert code == 1
        message = env.layout.termination_log.read_text()
        assert "output parameter p: cannot read /nonexistent/sluice/out.txt" in message
        assert "parameters" not in result["outputs"]


@pytest.mark.parametrize(("script", "code"), [("exit 1", "1"), ("kill -KILL $$", "137")])
def test_failed_main_reports_its_exit_code_and_no_wait_error(launcher_bin, tmp_path, store, script, code):
    tmpl = script_template(
        script, outputs={"parameters": [{"name": "p", "valueFrom": {"path": "/nonexistent/x"}}]}
    )
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "sh", "-c", script)
    api = RecordingAPI()
    assert wait(env, api, store) == 0  # the node fails for main's exit code, not for the missing output
    assert api.result("wf-1-123")["outputs"]["exitCode"] == code


@pytest.mark.parametrize(
    ("archive", "key", "check"),
    [
        (None, "wf-1/wf-1-step-123/a.tgz", "tgz"),
        ({"tar": {"compressionLevel": 0}}, "wf-1/wf-1-step-123/a.tgz", "tgz"),
        ({"none": {}}, "wf-1/wf-1-step-123/data.txt", "plain"),
        ({"zip": {}}, "wf-1/wf-1-step-123/a.zip", "zip"),
    ],
    ids=["tgz", "tar-level-0", "none", "zip"],
)
def test_archive_strategies_round_trip(launcher_bin, tmp_path, store, archive, key, check):
    work = tmp_path / "work"
    work.mkdir()
    art = {"name": "a", "path": f"{work}/data.txt"}
    if archive:
        art["archive"] = archive
    env = pod_env(tmp_path / "producer", script_template("", outputs={"artifacts": [art]}))
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    assert (
        run_main(env.layout.launcher, env, "sh", "-c", f"printf 'payload' > {work}/data.txt").returncode == 0
    )
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    [reported] = api.result("wf-1-123")["outputs"]["artifacts"]
    assert reported["s3"] == {"key": key}
    data = (store / key).read_bytes()
    if check == "plain":
        assert data == b"payload"
    elif check == "zip":
        assert zipfile.ZipFile(io.BytesIO(data)).read("data.txt") == b"payload"
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            assert tar.extractfile("data.txt").read() == b"payload"
    # a later step gets it back at its own path, unpacked (key-only input, as `from:` hands it over)
    consumer = {**reported, "path": "/in/data.txt"}
    if archive and "zip" in archive:
        consumer["archive"] = {"zip": {}}
    env2 = pod_env(tmp_path / "consumer", script_template("", inputs={"artifacts": [consumer]}))
    assert run_init(env2, drivers_for(store), launcher_bin) == 0
    assert (env2.layout.inputs / "a").read_bytes() == b"payload"


def test_inputs_raw_optional_mode_and_missing(launcher_bin, tmp_path, store):
    (store / "dir-key").mkdir()
    (store / "dir-key" / "f").write_text("in a directory")
    tmpl = script_template(
        "",
        inputs={
            "artifacts": [
                {"name": "raw", "path": "/r", "raw": {"data": "inline"}, "mode": 0o600},
                {"name": "dir", "path": "/d", "s3": {"key": "dir-key"}},
                {"name": "opt", "path": "/o", "s3": {"key": "absent"}, "optional": True},
            ]
        },
    )
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    assert (env.layout.inputs / "raw").read_text() == "inline"
    assert (env.layout.inputs / "raw").stat().st_mode & 0o777 == 0o600
    assert (env.layout.inputs / "dir" / "f").read_text() == "in a directory"
    assert not (env.layout.inputs / "opt").exists()

    missing = pod_env(
        tmp_path / "m",
        script_template("", inputs={"artifacts": [{"name": "need", "path": "/n", "s3": {"key": "absent"}}]}),
    )
    assert run_init(missing, drivers_for(store), launcher_bin) == 1
    assert "input artifact need: absent not found" in missing.layout.termination_log.read_text()


def test_archive_logs_as_main_logs(launcher_bin, tmp_path, store):
    tmpl = script_template("", archiveLocation={**REPO_LOCATION, "archiveLogs": True})
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "sh", "-c", "echo to-out; echo to-err >&2")
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    assert api.result("wf-1-123")["outputs"]["artifacts"] == [
        {"name": "main-logs", "s3": {"key": "wf-1/wf-1-step-123/main.log"}}
    ]
    assert sorted((store / "wf-1/wf-1-step-123/main.log").read_text().split()) == ["to-err", "to-out"]


def test_unreachable_store_fails_clearly_and_keeps_what_was_written(launcher_bin, tmp_path, store):
    work = tmp_path / "work"
    work.mkdir()
    tmpl = script_template(
        "",
        outputs={
            "parameters": [{"name": "p", "valueFrom": {"path": f"{work}/p"}}],
            "artifacts": [
                {"name": "ok", "path": f"{work}/p", "s3": {"key": "kept/p.tgz"}},
                {"name": "lost", "path": f"{work}/p", "s3": {"key": "other/p.tgz"}},
            ],
        },
    )
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "sh", "-c", f"echo v > {work}/p")

    class Flaky(DirectoryDriver):
        def put(self, source, location):
            if location["key"].startswith("other/"):
                raise DriverError("cannot reach 127.0.0.1:1: connection refused")
            super().put(source, location)

    api = RecordingAPI()
    code = asyncio.run(Waiter(env, api, lambda kind: Flaky(store)).run())
    assert code == 1
    assert (
        "output artifact lost: cannot reach 127.0.0.1:1: connection refused"
        in env.layout.termination_log.read_text()
    )
    result = api.result("wf-1-123")
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
    assert result["outputs"]["parameters"][0]["value"] == "v"
    assert [a["name"] for a in result["outputs"]["artifacts"]] == ["ok"]
    assert (store / "kept/p.tgz").is_file()


def test_task_result_api_retries_transient_errors_and_always_finishes(launcher_bin, tmp_path, store):
    env = pod_env(tmp_path, script_template(""))
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "true")
    api = RecordingAPI(fail={"create": [503, 500], "patch": [429]})
    assert asyncio.run(Waiter(env, api, drivers_for(store), sleep=_no_sleep).run()) == 0
    assert api.result("wf-1-123")["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"

    forbidden = RecordingAPI(fail={"patch": [403, 403, 403]})
    env2 = pod_env(tmp_path / "two", script_template(""), node_id="wf-1-456")
    assert run_init(env2, drivers_for(store), launcher_bin) == 0
    run_main(env2.layout.launcher, env2, "true")
    assert asyncio.run(Waiter(env2, forbidden, drivers_for(store), sleep=_no_sleep).run()) == 1
    assert "403" in env2.layout.termination_log.read_text()


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_containerset_reports_main_of_the_set(launcher_bin, tmp_path, store):
    tmpl = {
        "name": "cs",
        "archiveLocation": REPO_LOCATION,
        "containerSet": {
            "containers": [{"name": "a", "image": "x"}, {"name": "main", "image": "x", "dependencies": ["a"]}]
        },
        "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": f"{tmp_path}/shared"}}]},
    }
    env = pod_env(tmp_path, tmpl, include_result=True)
    assert env.main_containers == ("a", "main")
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "sh", "-c", f"echo from-a > {tmp_path}/shared", container="a")
    run_main(env.layout.launcher, env, "sh", "-c", f"cat {tmp_path}/shared; echo last", container="main")
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    outputs = api.result("wf-1-123")["outputs"]
    assert outputs["result"] == "from-a\nlast"
    assert outputs["parameters"][0]["value"] == "from-a"


def test_progress_file_is_reported(launcher_bin, tmp_path, store):
    env = pod_env(tmp_path, script_template(""))
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    run_main(env.layout.launcher, env, "sh", "-c", f"echo 2/3 > {env.progress_file}")
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    assert api.result("wf-1-123")["progress"] == "2/3"
    # anything that is not N/M is ignored
    (tmp_path / "var-run-argo" / "progress").write_text("almost done")
    api2 = RecordingAPI()
    assert wait(env, api2, store) == 0
    assert "progress" not in api2.result("wf-1-123")


def test_a_killed_launcher_does_not_leave_wait_running(launcher_bin, tmp_path, store):
    """main OOM-killed: its launcher dies with it and writes no exit code; wait sees the launcher's lock
    released, reports 137 and finishes the task result instead of waiting for ever."""
    env = pod_env(
        tmp_path, script_template("", outputs={"parameters": [{"name": "p", "valueFrom": {"path": "/x"}}]})
    )
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    proc = subprocess.Popen(
        [str(env.layout.launcher), "--", "sleep", "120"],
        env={
            "PATH": "/usr/bin:/bin",
            "SLUICE_RUN_DIR": str(env.layout.run),
            "ARGO_CONTAINER_NAME": "main",
            "SLUICE_TERMINATION_LOG": str(tmp_path / "main-termination"),
        },
        start_new_session=True,
    )
    try:
        running = env.layout.ctr("main") / "running"
        deadline = time.monotonic() + 60
        while not running.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert running.exists()
        api = RecordingAPI()

        async def scenario() -> int:
            task = asyncio.create_task(Waiter(env, api, drivers_for(store)).run())
            await asyncio.sleep(0.5)
            assert not task.done()  # the launcher lives: wait waits
            os.killpg(proc.pid, signal.SIGKILL)  # the whole container, launcher included
            return await asyncio.wait_for(task, timeout=60)

        assert asyncio.run(scenario()) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    result = api.result("wf-1-123")
    assert result["outputs"]["exitCode"] == "137"
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
    assert not (env.layout.ctr("main") / "exitcode").exists()


def _workspace_set(tmp_path: Path) -> tuple[dict, Path, Path]:
    """A containerSet whose output lies on a volume main sees at `path` and wait at mainctrfs/`path`."""
    path = tmp_path / "workspace" / "out"
    tmpl = {
        "name": "cs",
        "archiveLocation": REPO_LOCATION,
        "containerSet": {"containers": [{"name": "a", "image": "x"}, {"name": "main", "image": "x"}]},
        "outputs": {
            "parameters": [{"name": "out", "valueFrom": {"path": str(path)}}],
            "artifacts": [{"name": "out", "path": str(path), "archive": {"none": {}}}],
        },
    }
    mirrored = tmp_path / "mainctrfs" / str(path).lstrip("/")
    mirrored.parent.mkdir(parents=True)
    return tmpl, path, mirrored


def test_containerset_output_on_a_volume_is_read_where_every_member_left_it(launcher_bin, tmp_path, store):
    """main ends first and its launcher copies what it sees then; member `a` writes the volume later: wait
    reads the volume (mirrored at /mainctrfs), not main's early copy."""
    tmpl, path, mirrored = _workspace_set(tmp_path)
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    path.parent.mkdir(parents=True)
    path.write_text("early")
    assert run_main(env.layout.launcher, env, "true").returncode == 0
    a = run_main(env.layout.launcher, env, "sh", "-c", f"printf hi > {mirrored}", container="a")
    assert a.returncode == 0, a.stderr
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    outputs = api.result("wf-1-123")["outputs"]
    assert outputs["parameters"][0]["value"] == "hi"
    [art] = outputs["artifacts"]
    assert (store / art["s3"]["key"]).read_text() == "hi"


def test_a_link_on_the_volume_leaving_it_is_not_followed_in_wait(launcher_bin, tmp_path, store):
    """wait's filesystem holds the artifact credentials: a link on main's volume pointing out of it is
    not read there (wait falls back to what main's launcher saw)."""
    tmpl, path, mirrored = _workspace_set(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t")
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    path.parent.mkdir(parents=True)
    path.write_text("main's view")
    assert run_main(env.layout.launcher, env, "true").returncode == 0
    assert (
        run_main(env.layout.launcher, env, "ln", "-s", str(secret), str(mirrored), container="a").returncode
        == 0
    )
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    outputs = api.result("wf-1-123")["outputs"]
    assert outputs["parameters"][0]["value"] == "main's view"
    assert "s3cr3t" not in json.dumps(outputs)
    [art] = outputs["artifacts"]
    assert (store / art["s3"]["key"]).read_text() == "main's view"


def test_an_offloaded_template_past_128_kib_runs(launcher_bin, tmp_path, store):
    """A 200 KiB script: Linux refuses it as an environment variable (E2BIG), so the pod carries
    ARGO_TEMPLATE=offloaded and the ConfigMap at /argo/config; init (a real process) stages the script
    from there, main runs it, wait reports its result."""
    source = "#" + "x" * (200 * 1024) + "\necho big\n"
    tmpl = script_template(source)
    env = pod_env(tmp_path, tmpl, include_result=True)
    process_env = {
        "PATH": os.environ["PATH"],
        "ARGO_NODE_ID": env.node_id,
        "ARGO_WORKFLOW_NAME": env.workflow_name,
        "ARGO_POD_NAME": env.pod_name,
        "ARGO_NAMESPACE": env.namespace,
        "SLUICE_RUN_DIR": str(env.layout.run),
        "SLUICE_STAGING_DIR": str(env.layout.staging),
        "SLUICE_INPUTS_DIR": str(env.layout.inputs),
        "SLUICE_TERMINATION_LOG": str(env.layout.termination_log),
        "SLUICE_LAUNCHER": str(launcher_bin),
    }
    init = [sys.executable, "-m", "sluice", "executor", "init"]
    with pytest.raises(OSError) as refused:  # why it is offloaded
        subprocess.run(init, env={**process_env, "ARGO_TEMPLATE": json.dumps(tmpl)}, timeout=120)
    assert refused.value.errno == errno.E2BIG
    config = tmp_path / "argo-config"
    config.mkdir()
    (config / "ARGO_TEMPLATE").write_text(json.dumps(tmpl))
    offloaded = {**process_env, "ARGO_TEMPLATE": "offloaded", "SLUICE_CONFIG_DIR": str(config)}
    done = subprocess.run(init, env=offloaded, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (env.layout.staging / "script").read_text() == source
    main = run_main(env.layout.launcher, env, "sh", str(env.layout.staging / "script"))
    assert main.returncode == 0, main.stderr
    api = RecordingAPI()
    wait_env = PodEnv.from_env({**offloaded, "ARGO_INCLUDE_SCRIPT_OUTPUT": "true", "ARGO_WORKFLOW_UID": "u"})
    assert wait_env.template == tmpl
    assert asyncio.run(Waiter(wait_env, api, drivers_for(store)).run()) == 0
    assert api.result("wf-1-123")["outputs"]["result"] == "big"


def test_an_offloaded_template_that_is_missing_is_a_clear_error(tmp_path):
    with pytest.raises(PodEnvError, match="ARGO_TEMPLATE is offloaded but .* cannot be read"):
        PodEnv.from_env(
            {
                "ARGO_TEMPLATE": "offloaded",
                "SLUICE_CONFIG_DIR": str(tmp_path / "none"),
                "ARGO_NODE_ID": "n",
                "ARGO_WORKFLOW_NAME": "w",
                "ARGO_POD_NAME": "p",
            }
        )


def test_an_output_on_mains_volume_is_read_in_place_not_copied(launcher_bin, tmp_path, store):
    """main's volume (its `volumeMounts`) is mirrored into wait at /mainctrfs: the launcher leaves outputs
    on it alone (no second copy on the node's disk) and wait reads them there. Here the volume is one
    directory that main sees at its mount path and wait under mainctrfs."""
    volume = tmp_path / "vol"
    mirrored = tmp_path / "mainctrfs" / str(volume).lstrip("/")
    mirrored.mkdir(parents=True)
    volume.symlink_to(mirrored)
    tmpl = script_template(
        f"mkdir -p {volume}/tree && echo -n 7 > {volume}/n && echo x > {volume}/tree/f",
        outputs={
            "parameters": [{"name": "n", "valueFrom": {"path": f"{volume}/n"}}],
            "artifacts": [{"name": "tree", "path": f"{volume}/tree"}],
        },
    )
    tmpl["script"]["volumeMounts"] = [{"name": "vol", "mountPath": str(volume)}]
    env = pod_env(tmp_path, tmpl)
    assert run_init(env, drivers_for(store), launcher_bin) == 0
    main = run_main(env.layout.launcher, env, "sh", str(env.layout.staging / "script"))
    assert main.returncode == 0, main.stderr
    assert not (env.layout.run / "outputs").exists()  # nothing copied
    api = RecordingAPI()
    assert wait(env, api, store) == 0
    outputs = api.result("wf-1-123")["outputs"]
    assert outputs["parameters"][0]["value"] == "7"
    with tarfile.open(store / outputs["artifacts"][0]["s3"]["key"]) as tar:
        assert sorted(tar.getnames()) == ["tree", "tree/f"]
