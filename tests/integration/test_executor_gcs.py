"""The executor against a real fake-gcs-server on 127.0.0.1, with service account keys whose token_uri is
a token endpoint on 127.0.0.1 (tests/integration/gcs_server.py): a GCS repository for default and
key-only artifacts, every archive strategy, directories, the only hosts ever contacted, the refusal
without a key, a refused key, a missing object, an unreachable store, a data template's listing, and a
big artifact moving with flat memory."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sluice_executor.drivers import DriverError, MountedSecrets, NotFound, gcs_client
from sluice_executor.drivers.gcs import REFUSAL, GCSDriver
from sluice_executor.init import run_init
from sluice_executor.wait import Waiter

from tests.integration.executor_support import RecordingAPI, pod_env, run_main
from tests.integration.gcs_server import TokenServer, fake_gcs_binary, start_fake_gcs
from tests.integration.launcher_build import REPO, build
from workflow.labels import LABEL_OUTPUTS_COMPLETED

BUCKET = "artifacts"
KEY_SECRET = {"name": "gcs-creds", "key": "key.json"}


@pytest.mark.timeout(3600)
def test_the_emulator_is_built():
    """First in this file: fake-gcs-server from its Go module (cluster/build-fake-gcs-server.sh, cached per
    version and locked). On a new machine the build takes minutes under load (scripts/test.sh starts it
    early), longer than one test's timeout; the fixture below then finds it built."""
    binary = fake_gcs_binary()
    assert binary.is_file() and os.access(binary, os.X_OK)


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    server = start_fake_gcs(tmp_path_factory.mktemp("gcs"))
    try:
        server.make_bucket(BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture
def tokens():
    server = TokenServer().start()  # a fresh key per test: no token cached from another test
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def connections(monkeypatch):
    """Every TCP address this process connects to while the test runs."""
    seen: list[tuple[str, int]] = []
    original = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            seen.append((address[0], address[1]))
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def repository(key: str, secret: dict | None = KEY_SECRET) -> dict:
    gcs = {"bucket": BUCKET, "key": key}
    if secret is not None:
        gcs["serviceAccountKeySecret"] = secret
    return {"gcs": gcs}


def prepared(root: Path, template: dict, key_json: str, endpoint: str, node_id: str = "wf-1-123"):
    env = pod_env(root, template, node_id=node_id)
    (env.layout.secrets / "gcs-creds").mkdir(parents=True)
    (env.layout.secrets / "gcs-creds" / "key.json").write_text(key_json)
    secrets = MountedSecrets(env.layout.secrets)

    def drivers(kind: str):
        assert kind == "gcs", kind
        return GCSDriver(secrets, endpoint=endpoint)

    return env, drivers


def test_artifacts_pass_through_gcs_and_only_the_two_configured_hosts_are_contacted(
    launcher_bin, tmp_path, gcs, tokens, connections
):
    work = tmp_path / "work"
    outputs = {
        "artifacts": [
            {"name": "tree", "path": f"{work}/tree"},
            {"name": "fast", "path": f"{work}/tree", "archive": {"tar": {"compressionLevel": 1}}},
            {"name": "zipped", "path": f"{work}/tree", "archive": {"zip": {}}},
            {"name": "plain", "path": f"{work}/tree", "archive": {"none": {}}},
            {
                "name": "mine",
                "path": f"{work}/tree/a",
                "gcs": {"key": "shared/a.txt"},
                "archive": {"none": {}},
            },
        ]
    }
    tmpl = {
        "name": "p",
        "container": {"image": "x", "command": ["true"]},
        "outputs": outputs,
        "archiveLocation": {**repository("wf-1/wf-1-p-1"), "archiveLogs": True},
    }
    env, drivers = prepared(tmp_path / "p", tmpl, tokens.key_json(), gcs.endpoint)
    assert run_init(env, drivers, launcher_bin) == 0
    script = f"mkdir -p {work}/tree/s && echo A > {work}/tree/a && echo B > {work}/tree/s/b"
    assert run_main(env.layout.launcher, env, "sh", "-c", script).returncode == 0
    api = RecordingAPI()
    assert asyncio.run(Waiter(env, api, drivers).run()) == 0, env.layout.termination_log.read_text()
    reported = {a["name"]: a for a in api.result("wf-1-123")["outputs"]["artifacts"]}
    assert reported["tree"]["gcs"] == {"key": "wf-1/wf-1-p-1/tree.tgz"}
    assert reported["fast"]["gcs"] == {"key": "wf-1/wf-1-p-1/fast.tgz"}
    assert reported["zipped"]["gcs"] == {"key": "wf-1/wf-1-p-1/zipped.zip"}
    assert reported["plain"]["gcs"] == {"key": "wf-1/wf-1-p-1/tree"}
    assert reported["mine"]["gcs"] == {"key": "shared/a.txt"}
    assert reported["main-logs"]["gcs"] == {"key": "wf-1/wf-1-p-1/main.log"}  # archiveLogs
    names = gcs.object_names(BUCKET)
    assert {
        "wf-1/wf-1-p-1/tree.tgz",
        "wf-1/wf-1-p-1/tree/a",
        "wf-1/wf-1-p-1/tree/s/b",
        "shared/a.txt",
        "wf-1/wf-1-p-1/main.log",
    } <= set(names)

    inputs = [
        {**reported[name], "path": f"/in/{name}"} for name in ("tree", "fast", "zipped", "plain", "mine")
    ]
    consumer = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": inputs},
        "archiveLocation": repository("wf-1/wf-1-c-2"),
    }
    env2, drivers2 = prepared(tmp_path / "c", consumer, tokens.key_json(), gcs.endpoint, node_id="wf-1-456")
    assert run_init(env2, drivers2, launcher_bin) == 0, env2.layout.termination_log.read_text()
    for name in ("tree", "fast", "zipped", "plain"):
        assert (env2.layout.inputs / name / "s" / "b").read_text() == "B\n", name
        assert (env2.layout.inputs / name / "a").read_text() == "A\n", name
    assert (env2.layout.inputs / "mine").read_text() == "A\n"

    # The key's JWT was verified by the token endpoint; one exchange served both pods (same key).
    assert len(tokens.issued) == 1
    used = set(connections)
    assert used == {("127.0.0.1", gcs.port), ("127.0.0.1", tokens.port)}, used


def test_without_a_key_secret_gcs_is_refused_before_any_connection(launcher_bin, tmp_path, gcs, connections):
    tmpl = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": [{"name": "need", "path": "/n", "gcs": {"bucket": BUCKET, "key": "k.tgz"}}]},
    }
    env, drivers = prepared(tmp_path / "m", tmpl, "{}", gcs.endpoint)
    assert run_init(env, drivers, launcher_bin) == 1
    assert env.layout.termination_log.read_text() == (
        f"input artifact need: gs://{BUCKET}/k.tgz at {gcs.endpoint}: {REFUSAL}"
    )
    assert connections == []


def test_missing_object_and_refused_key(launcher_bin, tmp_path, gcs, tokens):
    tmpl = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": [{"name": "need", "path": "/n", "gcs": {"key": "no/such.tgz"}}]},
        "archiveLocation": repository("x"),
    }
    env, drivers = prepared(tmp_path / "m", tmpl, tokens.key_json(), gcs.endpoint)
    assert run_init(env, drivers, launcher_bin) == 1
    assert env.layout.termination_log.read_text() == (
        f"input artifact need: gs://{BUCKET}/no/such.tgz at {gcs.endpoint} not found"
    )

    (tmp_path / "f").write_text("x")
    with pytest.raises(DriverError) as err:  # writing to a missing bucket is no "not found" of the object
        drivers("gcs").put(tmp_path / "f", {**repository("k")["gcs"], "bucket": "no-such-bucket"})
    assert str(err.value).startswith(
        f"gs://no-such-bucket/k at {gcs.endpoint}: starting the upload: HTTP 404"
    ) and str(err.value).endswith("(does the bucket exist?)")
    assert not isinstance(err.value, NotFound)

    tokens.refuse = True  # as Google answers for a deleted or disabled key
    _, bad = prepared(tmp_path / "w", tmpl, tokens.key_json(key_id="revoked"), gcs.endpoint)
    with pytest.raises(DriverError) as err:
        bad("gcs").get({**repository("x")["gcs"], "key": "anything"}, tmp_path / "x")
    message = str(err.value)
    assert "access denied (check the service account key in serviceAccountKeySecret)" in message
    assert "invalid_grant" in message and "PRIVATE KEY" not in message


def test_unreachable_store_fails_the_node_clearly_and_loses_nothing_written(
    launcher_bin, tmp_path, gcs, tokens, monkeypatch
):
    """One artifact goes to the reachable repository, one with a key whose token endpoint nobody listens
    on: the first is in the store and reported, the parameter is reported, the error names the store,
    the task result is finished. Then the whole store unreachable: the same, with nothing uploaded."""
    # the pauses between the retries shortened (1+2+4 s each time otherwise; the retries themselves are
    # test_gcs_client_resume.py's): what is checked here is the message and what was kept
    monkeypatch.setattr(gcs_client, "RETRY_DELAYS", (0.01, 0.01, 0.01))
    work = tmp_path / "work"
    dead_key = json.loads(tokens.key_json())
    dead_key["token_uri"] = "http://127.0.0.1:9/token"  # discard port: refused
    outputs = {
        "parameters": [{"name": "p", "valueFrom": {"path": f"{work}/f"}}],
        "artifacts": [
            {"name": "kept", "path": f"{work}/f"},
            {
                "name": "lost",
                "path": f"{work}/f",
                "gcs": {
                    "bucket": BUCKET,
                    "key": "x/lost.tgz",
                    "serviceAccountKeySecret": {"name": "dead", "key": "k"},
                },
            },
        ],
    }
    tmpl = {
        "name": "p",
        "script": {"image": "alpine", "command": ["sh"], "source": f"mkdir -p {work}; echo v > {work}/f"},
        "outputs": outputs,
        "archiveLocation": repository("wf-2/wf-2-p-1"),
    }
    for endpoint, kept in ((gcs.endpoint, True), ("http://127.0.0.1:9", False)):
        root = tmp_path / ("live" if kept else "dead")
        env, drivers = prepared(root, tmpl, tokens.key_json(), endpoint)
        (env.layout.secrets / "dead").mkdir(parents=True)
        (env.layout.secrets / "dead" / "k").write_text(json.dumps(dead_key))
        assert run_init(env, drivers, launcher_bin) == 0
        assert run_main(env.layout.launcher, env, "sh", str(env.layout.staging / "script")).returncode == 0
        api = RecordingAPI()
        assert asyncio.run(Waiter(env, api, drivers).run()) == 1
        message = env.layout.termination_log.read_text()
        result = api.result("wf-1-123")
        assert result["metadata"]["labels"][LABEL_OUTPUTS_COMPLETED] == "true"
        assert result["outputs"]["parameters"][0]["value"] == "v"
        if kept:
            assert message.startswith(
                f"output artifact lost: cannot reach the GCS store for gs://{BUCKET}/x/lost.tgz at {gcs.endpoint}: "
                "the token URI at http://127.0.0.1:9"
            ), message
            assert [a["name"] for a in result["outputs"]["artifacts"]] == ["kept"]
            assert "wf-2/wf-2-p-1/kept.tgz" in gcs.object_names(BUCKET)
        else:
            assert message.startswith(
                f"output artifact kept: cannot reach the GCS store for gs://{BUCKET}/wf-2/wf-2-p-1/kept.tgz "
                "at http://127.0.0.1:9: "
            ), message
            assert not result["outputs"].get("artifacts")


def test_data_template_lists_and_filters_the_bucket(tmp_path, gcs, tokens):
    from sluice_executor.data import run_data

    (tmp_path / "f").write_text("x")
    tmpl = {
        "name": "list",
        "archiveLocation": repository("x"),
        "data": {
            "source": {"artifactPaths": {"name": "logs", "gcs": {"key": "logs"}}},
            "transformation": [{"expression": 'filter(data, {# endsWith "main.log"})'}],
        },
    }
    env, drivers = prepared(tmp_path / "pod", tmpl, tokens.key_json(), gcs.endpoint)
    for key in ("logs/a/main.log", "logs/a/other.txt", "logs/b/main.log", "elsewhere/main.log"):
        drivers("gcs").put(tmp_path / "f", {**repository(key)["gcs"]})
    api = RecordingAPI()
    assert asyncio.run(run_data(env, drivers, api)) == 0, env.layout.termination_log.read_text()
    result = api.result("wf-1-123")
    assert json.loads(result["outputs"]["result"]) == ["logs/a/main.log", "logs/b/main.log"]


def test_big_artifact_moves_with_flat_memory(tmp_path, gcs, tokens):
    """256 MiB up (resumable, 64 MiB requests streamed from the file) and down (streamed) through the
    driver in a fresh process: its peak RSS stays far below the object's size (the 1 GiB figure is in
    benchmarks/RESULTS.md, from benchmarks/bench_gcs.py)."""
    src = tmp_path / "big.bin"
    with open(src, "wb") as out:
        for _ in range(256):
            out.write(os.urandom(1024 * 1024))
    key_file = tmp_path / "key.json"
    key_file.write_text(tokens.key_json())
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_gcs.py"),
            "--child",
            gcs.endpoint,
            str(key_file),
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
    assert figures["rss_peak_mib"] < 128, figures  # the object is 256 MiB
    with open(src, "rb") as a, open(tmp_path / "back.bin", "rb") as b:
        while block := a.read(1 << 20):
            assert block == b.read(1 << 20)


def test_argos_gcs_examples_run_with_their_locations_unchanged(
    launcher_bin, tmp_path, gcs, tokens, argo_examples
):
    """input-artifact-gcs.yaml's template as written (a key naming a directory, the key in the Secret
    `my-gcs-credentials`), and output-artifact-gcs.yaml's `gcs` block as written (only the output's path
    moved off this machine's own /tmp)."""
    import yaml

    def template(example: str) -> dict:
        return yaml.safe_load((argo_examples / example).read_text())["spec"]["templates"][0]

    for bucket in ("my-bucket", "my-bucket-name"):
        gcs.make_bucket(bucket)

    def drivers_for(env):
        (env.layout.secrets / "my-gcs-credentials").mkdir(parents=True)
        (env.layout.secrets / "my-gcs-credentials" / "serviceAccountKey").write_text(tokens.key_json())
        secrets = MountedSecrets(env.layout.secrets)
        return lambda kind: GCSDriver(secrets, endpoint=gcs.endpoint)

    producer = template("output-artifact-gcs.yaml")
    out = tmp_path / "out"
    producer["outputs"]["artifacts"][0]["path"] = str(out)
    env = pod_env(tmp_path / "producer", producer)
    drivers = drivers_for(env)
    assert run_init(env, drivers, launcher_bin) == 0
    script = f"mkdir -p {out}/sub && echo hello world > {out}/hello_world.txt && echo deeper > {out}/sub/x"
    assert run_main(env.layout.launcher, env, "sh", "-c", script).returncode == 0
    api = RecordingAPI()
    assert asyncio.run(Waiter(env, api, drivers).run()) == 0, env.layout.termination_log.read_text()
    assert gcs.object_names("my-bucket") == ["path/in/bucket/hello_world.txt.tgz"]
    drivers("gcs").get(producer["outputs"]["artifacts"][0]["gcs"], tmp_path / "back.tgz")
    with tarfile.open(tmp_path / "back.tgz") as packed:
        assert sorted(packed.getnames()) == ["out", "out/hello_world.txt", "out/sub", "out/sub/x"]

    # the input example's key names a directory: every object under it
    for name, text in (("a.txt", "A"), ("nested/b.txt", "B")):
        (tmp_path / "f").write_text(text)
        location = {**template("input-artifact-gcs.yaml")["inputs"]["artifacts"][0]["gcs"]}
        drivers("gcs").put(tmp_path / "f", {**location, "key": f"path/in/bucket/{name}"})
    consumer = template("input-artifact-gcs.yaml")
    env2 = pod_env(tmp_path / "consumer", consumer, node_id="wf-1-456")
    assert run_init(env2, drivers_for(env2), launcher_bin) == 0, env2.layout.termination_log.read_text()
    assert (env2.layout.inputs / "my-art" / "a.txt").read_text() == "A"
    assert (env2.layout.inputs / "my-art" / "nested" / "b.txt").read_text() == "B"


def test_an_https_store_is_verified_against_the_trusted_cas(tmp_path, tokens, monkeypatch):
    """fake-gcs-server over HTTPS with a certificate for 127.0.0.1: trusted through SSL_CERT_FILE (as an
    image's CA bundle), the artifact moves; against other CAs only, the connection is refused with the
    reason, never sent unverified."""
    from webhook.certs import issue

    bundle = issue(["127.0.0.1"])
    server = start_fake_gcs(tmp_path / "tls", tls=bundle)
    try:
        server.make_bucket(BUCKET)
        (tmp_path / "ca.pem").write_bytes(bundle.ca_cert)
        (tmp_path / "f").write_text("over tls")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        env, drivers = prepared(tmp_path / "ok", {"name": "t"}, tokens.key_json(), server.endpoint)
        location = repository("tls/f")["gcs"]
        drivers("gcs").put(tmp_path / "f", location)
        drivers("gcs").get(location, tmp_path / "back")
        assert (tmp_path / "back").read_text() == "over tls"

        other = issue(["127.0.0.1"])  # another CA: the store's certificate is not trusted
        (tmp_path / "other.pem").write_bytes(other.ca_cert)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "other.pem"))
        _, untrusting = prepared(
            tmp_path / "no", {"name": "t"}, tokens.key_json(key_id="k2"), server.endpoint
        )
        with pytest.raises(DriverError) as err:
            untrusting("gcs").put(tmp_path / "f", {**location, "key": "tls/g"})
        assert str(err.value).startswith(
            f"gs://{BUCKET}/tls/g at {server.endpoint}: the TLS certificate of {server.endpoint} is not trusted: "
        )
        assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)
        assert server.object_names(BUCKET) == ["tls/f"]
    finally:
        server.stop()
