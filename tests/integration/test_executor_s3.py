"""The executor against a real MinIO on 127.0.0.1: artifacts passed between pods by key, every archive
strategy, key-only artifacts resolved against the repository, credentials from mounted Secrets, an
unreachable store, and a big artifact moving with flat memory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sluice_executor.drivers import MountedSecrets, NotFound, driver_for
from sluice_executor.init import run_init
from sluice_executor.wait import Waiter

from tests.integration.executor_support import RecordingAPI, pod_env, run_main
from tests.integration.launcher_build import REPO, build
from tests.integration.minio_server import make_bucket, start_minio
from workflow.labels import LABEL_OUTPUTS_COMPLETED

BUCKET = "artifacts"


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


@pytest.fixture(scope="module")
def minio(tmp_path_factory):
    server = start_minio(tmp_path_factory.mktemp("minio"))
    try:
        make_bucket(server, BUCKET)
        yield server
    finally:
        server.stop()


def repository(minio, key: str = "wf-1/wf-1-step-123") -> dict:
    return {
        "s3": {
            "endpoint": minio.endpoint,
            "bucket": BUCKET,
            "insecure": True,
            "accessKeySecret": {"name": "minio-creds", "key": "accesskey"},
            "secretKeySecret": {"name": "minio-creds", "key": "secretkey"},
            "key": key,
        }
    }


def with_secrets(env, minio) -> None:
    folder = env.layout.secrets / "minio-creds"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accesskey").write_text(minio.access_key)
    (folder / "secretkey").write_text(
        minio.secret_key + "\n"
    )  # a trailing newline, as kubectl create often leaves


def drivers(env):
    secrets = MountedSecrets(env.layout.secrets)
    return lambda kind: driver_for(kind, secrets)


def s3_get(minio, key: str, dest: Path) -> bytes:
    secrets_dir = dest.parent / "creds"
    (secrets_dir / "minio-creds").mkdir(parents=True, exist_ok=True)
    (secrets_dir / "minio-creds" / "accesskey").write_text(minio.access_key)
    (secrets_dir / "minio-creds" / "secretkey").write_text(minio.secret_key)
    location = {**repository(minio)["s3"], "key": key}
    driver_for("s3", MountedSecrets(secrets_dir)).get(location, dest)
    return dest.read_bytes()


def produce(launcher, root: Path, minio, outputs: dict, script: str, node_id: str = "wf-1-123"):
    tmpl = {
        "name": "producer",
        "script": {"image": "alpine", "command": ["sh"], "source": script},
        "outputs": outputs,
        "archiveLocation": repository(minio),
    }
    env = pod_env(root, tmpl, node_id=node_id)
    with_secrets(env, minio)
    assert run_init(env, drivers(env), launcher) == 0
    main = run_main(env.layout.launcher, env, "sh", str(env.layout.staging / "script"))
    assert main.returncode == 0, main.stderr
    api = RecordingAPI()
    code = asyncio.run(Waiter(env, api, drivers(env)).run())
    return env, api, code


def consume(launcher, root: Path, minio, inputs: list[dict]):
    tmpl = {
        "name": "consumer",
        "container": {"image": "alpine", "command": ["true"]},
        "inputs": {"artifacts": inputs},
        "archiveLocation": repository(minio, "wf-1/wf-1-consumer-9"),
    }
    env = pod_env(root, tmpl, node_id="wf-1-999")
    with_secrets(env, minio)
    return env, run_init(env, drivers(env), launcher)


@pytest.mark.parametrize(
    ("archive", "key"),
    [
        (None, "wf-1/wf-1-step-123/out.tgz"),
        ({"tar": {"compressionLevel": 1}}, "wf-1/wf-1-step-123/out.tgz"),
        ({"none": {}}, "wf-1/wf-1-step-123/tree"),
        ({"zip": {}}, "wf-1/wf-1-step-123/out.zip"),
    ],
    ids=["tgz", "tar", "none", "zip"],
)
def test_directory_artifact_passes_between_pods(launcher_bin, tmp_path, minio, archive, key):
    work = tmp_path / "work"
    art = {"name": "out", "path": f"{work}/tree"}
    if archive:
        art["archive"] = archive
    _, api, code = produce(
        launcher_bin,
        tmp_path / "p",
        minio,
        {"artifacts": [art]},
        f"mkdir -p {work}/tree/sub && echo one > {work}/tree/a && echo two > {work}/tree/sub/b",
    )
    assert code == 0
    result = api.result("wf-1-123")
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
    [reported] = result["outputs"]["artifacts"]
    assert reported["s3"] == {"key": key}  # key-only: bucket and endpoint are the repository's
    # the key exists in MinIO (for `none` of a directory: objects under the prefix)
    probe = "wf-1/wf-1-step-123/tree/sub/b" if archive and "none" in archive else key
    assert s3_get(minio, probe, tmp_path / "probe")
    consumer_art = {**reported, "path": "/data/tree"}
    env, code = consume(launcher_bin, tmp_path / "c", minio, [consumer_art])
    assert code == 0, env.layout.termination_log.read_text()
    assert (env.layout.inputs / "out" / "a").read_text() == "one\n"
    assert (env.layout.inputs / "out" / "sub" / "b").read_text() == "two\n"


def test_explicit_key_only_and_full_locations(launcher_bin, tmp_path, minio):
    work = tmp_path / "work"
    repo = repository(minio)["s3"]
    arts = [
        {"name": "mine", "path": f"{work}/f", "s3": {"key": "shared/my-file.txt"}, "archive": {"none": {}}},
        {"name": "full", "path": f"{work}/f", "s3": {**repo, "key": "explicit/f.tgz"}},
    ]
    _, api, code = produce(
        launcher_bin, tmp_path / "p", minio, {"artifacts": arts}, f"mkdir -p {work}; echo hi > {work}/f"
    )
    assert code == 0
    reported = {a["name"]: a for a in api.result("wf-1-123")["outputs"]["artifacts"]}
    assert reported["mine"]["s3"] == {"key": "shared/my-file.txt"}
    assert reported["full"]["s3"]["key"] == "explicit/f.tgz" and reported["full"]["s3"]["bucket"] == BUCKET
    assert s3_get(minio, "shared/my-file.txt", tmp_path / "g") == b"hi\n"
    # a later pod reads the key-only artifact by key alone, with mode and a sub-path of a directory
    env, code = consume(
        launcher_bin,
        tmp_path / "c",
        minio,
        [
            {"name": "k", "path": "/in/k", "s3": {"key": "shared/my-file.txt"}, "mode": 0o640},
            {"name": "missing", "path": "/in/m", "s3": {"key": "no/such/key"}, "optional": True},
        ],
    )
    assert code == 0, env.layout.termination_log.read_text()
    assert (env.layout.inputs / "k").read_text() == "hi\n"
    assert (env.layout.inputs / "k").stat().st_mode & 0o777 == 0o640
    assert not (env.layout.inputs / "missing").exists()


def test_missing_required_input_fails_init_clearly(launcher_bin, tmp_path, minio):
    env, code = consume(
        launcher_bin, tmp_path, minio, [{"name": "need", "path": "/in/n", "s3": {"key": "absent.tgz"}}]
    )
    assert code == 1
    message = env.layout.termination_log.read_text()
    assert message == f"input artifact need: s3://{BUCKET}/absent.tgz at {minio.endpoint} not found"


def test_wrong_credentials_are_named_without_the_secret(launcher_bin, tmp_path, minio):
    env, _ = consume(launcher_bin, tmp_path, minio, [])
    (env.layout.secrets / "minio-creds" / "secretkey").write_text("not-the-password")
    location = {**repository(minio)["s3"], "key": "x"}
    with pytest.raises(Exception) as err:
        driver_for("s3", MountedSecrets(env.layout.secrets)).get(location, tmp_path / "x")
    assert "access denied (check the artifact repository's credentials)" in str(err.value)
    assert "not-the-password" not in str(err.value) and minio.secret_key not in str(err.value)
    assert not isinstance(err.value, NotFound)


def test_unreachable_store_fails_the_node_clearly_and_loses_nothing_written(launcher_bin, tmp_path, minio):
    """One artifact goes to the reachable repository, one to a store nobody listens on: the first is
    in MinIO and reported, the parameters are reported, the error names the store, the task result is
    finished."""
    work = tmp_path / "work"
    dead = {
        **repository(minio)["s3"],
        "endpoint": "127.0.0.1:9",
        "key": "x/lost.tgz",
    }  # discard port: refused
    outputs = {
        "parameters": [{"name": "p", "valueFrom": {"path": f"{work}/f"}}],
        "artifacts": [
            {"name": "kept", "path": f"{work}/f"},
            {"name": "lost", "path": f"{work}/f", "s3": dead},
        ],
    }
    env, api, code = produce(
        launcher_bin, tmp_path / "p", minio, outputs, f"mkdir -p {work}; echo v > {work}/f"
    )
    assert code == 1
    message = env.layout.termination_log.read_text()
    assert message.startswith(
        "output artifact lost: cannot reach the S3 store for s3://artifacts/x/lost.tgz at 127.0.0.1:9"
    )
    result = api.result("wf-1-123")
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
    assert result["outputs"]["parameters"][0]["value"] == "v"
    assert [a["name"] for a in result["outputs"]["artifacts"]] == ["kept"]
    assert s3_get(minio, "wf-1/wf-1-step-123/kept.tgz", tmp_path / "kept")


def test_big_artifact_moves_with_flat_memory(tmp_path, minio):
    """256 MiB up and down through the driver in a fresh process: its peak RSS stays far below the
    object's size (the 1 GiB figure is in benchmarks/RESULTS.md, from benchmarks/bench_artifacts.py)."""
    src = tmp_path / "big.bin"
    with open(src, "wb") as out:
        for _ in range(256):
            out.write(os.urandom(1024 * 1024))
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_artifacts.py"),
            "--child",
            "sluice",
            minio.endpoint,
            minio.access_key,
            minio.secret_key,
            BUCKET,
            str(src),
            str(tmp_path / "back.bin"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["rss_peak_mib"] < 160, figures  # measured ~67 MiB; the object is 256 MiB
    assert (tmp_path / "back.bin").stat().st_size == src.stat().st_size


def test_data_template_lists_and_filters_the_bucket(tmp_path, minio):
    from sluice_executor.data import run_data

    for key in ("logs/a/main.log", "logs/a/other.txt", "logs/b/main.log", "elsewhere/main.log"):
        (tmp_path / "f").write_text(key)
        location = {**repository(minio)["s3"], "key": key}
        secrets_dir = tmp_path / "creds"
        (secrets_dir / "minio-creds").mkdir(parents=True, exist_ok=True)
        (secrets_dir / "minio-creds" / "accesskey").write_text(minio.access_key)
        (secrets_dir / "minio-creds" / "secretkey").write_text(minio.secret_key)
        driver_for("s3", MountedSecrets(secrets_dir)).put(tmp_path / "f", location)
    tmpl = {
        "name": "list",
        "archiveLocation": repository(minio),
        "data": {
            "source": {"artifactPaths": {"name": "logs", "s3": {"key": "logs"}}},
            "transformation": [{"expression": 'filter(data, {# endsWith "main.log"})'}],
        },
    }
    env = pod_env(tmp_path / "pod", tmpl)
    with_secrets(env, minio)
    api = RecordingAPI()
    assert asyncio.run(run_data(env, drivers(env), api)) == 0, env.layout.termination_log.read_text()
    result = api.result("wf-1-123")
    assert json.loads(result["outputs"]["result"]) == ["logs/a/main.log", "logs/b/main.log"]
    assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
