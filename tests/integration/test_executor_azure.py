"""The executor against a real Azurite on 127.0.0.1: an Azure repository for default and key-only
artifacts, directories, a missing blob, a wrong account key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sluice_executor.drivers import DriverError, MountedSecrets, driver_for
from sluice_executor.init import run_init
from sluice_executor.wait import Waiter

from tests.integration.azurite_server import KEY, make_container, start_azurite
from tests.integration.executor_support import RecordingAPI, pod_env, run_main
from tests.integration.launcher_build import build


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    server = start_azurite(tmp_path_factory.mktemp("azurite"))
    try:
        make_container(server, "artifacts")
        yield server
    finally:
        server.stop()


def repository(azurite, blob: str) -> dict:
    return {
        "azure": {
            "endpoint": azurite.endpoint,
            "container": "artifacts",
            "blob": blob,
            "accountKeySecret": {"name": "azure-creds", "key": "key"},
        }
    }


def prepared(root: Path, template: dict, key: str = KEY, node_id: str = "wf-1-123"):
    env = pod_env(root, template, node_id=node_id)
    (env.layout.secrets / "azure-creds").mkdir(parents=True)
    (env.layout.secrets / "azure-creds" / "key").write_text(key)
    secrets = MountedSecrets(env.layout.secrets)
    return env, (lambda kind: driver_for(kind, secrets))


def test_artifacts_pass_through_azure(launcher_bin, tmp_path, azurite):
    work = tmp_path / "work"
    outputs = {
        "artifacts": [
            {"name": "tree", "path": f"{work}/tree"},
            {"name": "plain", "path": f"{work}/tree", "archive": {"none": {}}},
            {
                "name": "mine",
                "path": f"{work}/tree/a",
                "azure": {"blob": "shared/a.txt"},
                "archive": {"none": {}},
            },
        ]
    }
    tmpl = {
        "name": "p",
        "container": {"image": "x", "command": ["true"]},
        "outputs": outputs,
        "archiveLocation": repository(azurite, "wf-1/wf-1-p-1"),
    }
    env, drivers = prepared(tmp_path / "p", tmpl)
    assert run_init(env, drivers, launcher_bin) == 0
    assert (
        run_main(
            env.layout.launcher,
            env,
            "sh",
            "-c",
            f"mkdir -p {work}/tree/s && echo A > {work}/tree/a && echo B > {work}/tree/s/b",
        ).returncode
        == 0
    )
    api = RecordingAPI()
    assert asyncio.run(Waiter(env, api, drivers).run()) == 0, env.layout.termination_log.read_text()
    reported = {a["name"]: a for a in api.result("wf-1-123")["outputs"]["artifacts"]}
    assert reported["tree"]["azure"] == {"blob": "wf-1/wf-1-p-1/tree.tgz"}
    assert reported["plain"]["azure"] == {"blob": "wf-1/wf-1-p-1/tree"}
    assert reported["mine"]["azure"] == {"blob": "shared/a.txt"}

    inputs = [
        {**reported["tree"], "path": "/in/t"},
        {**reported["plain"], "path": "/in/p"},
        {**reported["mine"], "path": "/in/a"},
    ]
    consumer = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": inputs},
        "archiveLocation": repository(azurite, "wf-1/wf-1-c-2"),
    }
    env2, drivers2 = prepared(tmp_path / "c", consumer, node_id="wf-1-456")
    assert run_init(env2, drivers2, launcher_bin) == 0, env2.layout.termination_log.read_text()
    assert (env2.layout.inputs / "tree" / "s" / "b").read_text() == "B\n"
    assert (env2.layout.inputs / "plain" / "s" / "b").read_text() == "B\n"
    assert (env2.layout.inputs / "mine").read_text() == "A\n"


def test_missing_blob_and_wrong_key(launcher_bin, tmp_path, azurite):
    tmpl = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": [{"name": "need", "path": "/n", "azure": {"blob": "no/such.tgz"}}]},
        "archiveLocation": repository(azurite, "x"),
    }
    env, drivers = prepared(tmp_path / "m", tmpl)
    assert run_init(env, drivers, launcher_bin) == 1
    assert env.layout.termination_log.read_text() == (
        f"input artifact need: azure://artifacts/no/such.tgz at {azurite.endpoint} not found"
    )
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    _, bad_drivers = prepared(tmp_path / "w", tmpl, key=wrong)
    location = {**repository(azurite, "x")["azure"], "blob": "anything"}
    with pytest.raises(DriverError) as err:
        bad_drivers("azure").get(location, tmp_path / "x")
    assert "access denied" in str(err.value) and wrong not in str(err.value)
