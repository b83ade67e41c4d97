"""Daemons on the real cluster, run by `sluice controller` from this tree (tests/e2e/controller_support.py):
a `daemon: true` step or task serves while its steps or DAG run; the node is Running and its pod IP is
`{{steps.X.ip}}` / `{{tasks.X.ip}}` once its readiness probe passes; the controller stops it when its
scope ends, and the daemon's node then ends Succeeded (Argo's `daemon: true`).

Argo's own daemon examples (daemon-step.yaml, dag-daemon-task.yaml, daemon-nginx.yaml, ...) need
influxdb, nginx and curl images the test cluster does not have; these workflows are the same shape with
a Python HTTP server and busybox's wget.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .controller_support import eventually, grant_executor, running_controller, wait_done, workflow

# Two pods (a Python server, a client) and a controller: a whole e2e run at load 60-110 took 294 s for
# one, past pytest's default 300 s with its set-up.
pytestmark = pytest.mark.timeout(900)
PORT = 8080
# Answers every GET with a fixed text; no shell, no packages (the cluster's python image).
SERVER = (
    "import http.server as h\n"
    "class H(h.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = b'served by the daemon'\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
    "        self.wfile.write(body)\n"
    f"h.HTTPServer(('', {PORT}), H).serve_forever()\n"
)
DAEMON = {
    "name": "server",
    "daemon": True,
    "container": {
        "image": "python:3.11-slim",
        "command": ["python3", "-u", "-c", SERVER],
        "readinessProbe": {"httpGet": {"path": "/", "port": PORT}, "periodSeconds": 1},
    },
}


def client() -> dict:
    return {
        "name": "client",
        "inputs": {"parameters": [{"name": "ip"}]},
        "container": {
            "image": "busybox:1.36",
            "command": ["wget", "-q", "-O", "-", f"http://{{{{inputs.parameters.ip}}}}:{PORT}/"],
        },
    }


@pytest.fixture(scope="module")
def instance() -> str:
    return f"e2e-daemon-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def controller(kubeconfig: Path, kubectl, namespace: str, instance: str, tmp_path):
    grant_executor(kubectl, namespace)
    with running_controller(kubeconfig, namespace, instance, tmp_path) as ctl:
        yield ctl


def run(kubectl, namespace: str, instance: str, name: str, spec: dict) -> dict:
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, instance, spec)))
    return wait_done(kubectl, namespace, name, timeout=300)


def pod_of(kubectl, namespace: str, node: dict) -> dict:
    # the namespace also holds other tests' pods (the e2e tier runs on workers), some without annotations
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    [pod] = [
        p
        for p in pods
        if (p["metadata"].get("annotations") or {}).get("workflows.argoproj.io/node-id") == node["id"]
    ]
    return pod


def check_daemon_served_and_stopped(kubectl, namespace: str, wf: dict) -> None:
    nodes = {n["displayName"]: n for n in wf["status"]["nodes"].values()}
    assert wf["status"]["phase"] == "Succeeded", [n.get("message") for n in nodes.values()]
    client_node = nodes["client"]
    # with a retryStrategy "server" is the Retry node and "server(0)" its attempt, the pod
    for node in (nodes["server"], nodes.get("server(0)", nodes["server"])):
        assert node["phase"] == "Succeeded" and not node.get("daemoned"), node
    server = nodes.get("server(0)", nodes["server"])
    assert client_node["phase"] == "Succeeded"
    # the client reached the daemon by the IP the engine handed it
    logs = kubectl(
        "logs", pod_of(kubectl, namespace, client_node)["metadata"]["name"], "-n", namespace, "-c", "main"
    )
    assert logs == "served by the daemon"
    assert server["startedAt"] <= client_node["startedAt"]

    # the scope ended, so the daemon's pod was stopped (not left serving)
    def stopped():
        pod = pod_of(kubectl, namespace, server)
        return pod if pod["status"].get("phase") in ("Failed", "Succeeded") else None

    pod = eventually(stopped, 180, 1, "the daemon's pod stopped")
    # stopped by the controller (TerminatePod lowers activeDeadlineSeconds), not by exiting on its own
    assert pod["status"].get("reason") == "DeadlineExceeded", pod["status"]


@pytest.mark.parametrize("retried", [False, True], ids=["plain", "retryStrategy"])
def test_a_daemon_step_serves_the_next_step_by_its_ip(kubectl, namespace, instance, controller, retried):
    """With a retryStrategy (Argo's steps-daemon-retry-strategy.yaml) the Retry node serves as its attempt."""
    name = f"daemon-steps-{uuid.uuid4().hex[:5]}"
    server = {**DAEMON, "retryStrategy": {"limit": "2"}} if retried else DAEMON
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "server", "template": "server"}],
                    [
                        {
                            "name": "client",
                            "template": "client",
                            "arguments": {"parameters": [{"name": "ip", "value": "{{steps.server.ip}}"}]},
                        }
                    ],
                ],
            },
            server,
            client(),
        ],
    }
    check_daemon_served_and_stopped(kubectl, namespace, run(kubectl, namespace, instance, name, spec))


def test_a_daemon_task_serves_its_dependent_by_its_ip(kubectl, namespace, instance, controller):
    name = f"daemon-dag-{uuid.uuid4().hex[:5]}"
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "server", "template": "server"},
                        {
                            "name": "client",
                            "template": "client",
                            "dependencies": ["server"],
                            "arguments": {"parameters": [{"name": "ip", "value": "{{tasks.server.ip}}"}]},
                        },
                    ]
                },
            },
            DAEMON,
            client(),
        ],
    }
    check_daemon_served_and_stopped(kubectl, namespace, run(kubectl, namespace, instance, name, spec))
