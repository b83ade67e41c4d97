"""Issue 13's attacks on a real `sluice webhook` process over HTTPS, each with its bounded outcome:
policy evaluation that is stopped (items 1, 2), probes answered meanwhile, a free pool afterwards,
SIGTERM that ends the evaluation, and memory under the Deployment's limit (item 3).

The bodies are built here, small enough to read; benchmarks/RESULTS.md has the measured figures."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml
from test_webhook_support import WebhookProcess, review

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
DEADLINE = 4.0  # the server's default (webhook/server.py)


def _deployment_limit_mib() -> int:
    """The memory limit of the webhook container in manifests/webhook/deployment.yaml."""
    for doc in yaml.safe_load_all((REPO / "manifests" / "webhook" / "deployment.yaml").read_text()):
        if isinstance(doc, dict) and doc.get("kind") == "Deployment":
            limit = doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
            assert limit.endswith("Mi"), limit
            return int(limit[:-2])
    raise AssertionError("no Deployment")


LIMIT_MIB = _deployment_limit_mib()


def many_templates(n_templates: int, n_env: int, *, labels: dict | None = None) -> dict:
    """Item 1: templateDefaults.container.env of n_env entries, applied to every one of n_templates."""
    env = [{"name": f"E{i}", "value": "x"} for i in range(n_env)]
    steps = [[{"name": f"s{i}", "template": f"t{i}"} for i in range(n_templates)]]
    templates = [{"name": "main", "steps": steps}]
    templates += [
        {"name": f"t{i}", "container": {"image": "evil.example/x", "command": ["true"]}}
        for i in range(n_templates)
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wide", "namespace": "default", "labels": labels or {}},
        "spec": {
            "entrypoint": "main",
            "templateDefaults": {"container": {"env": env}},
            "templates": templates,
        },
    }


def small(name: str = "ok") -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "container": {
                        "image": "registry.corp.example/a:1",
                        "command": ["true"],
                        "resources": {"limits": {"memory": "64Mi"}},
                    },
                }
            ],
        },
    }


def tree_kib(pid: int) -> int:
    """RSS of the server and its worker processes."""
    total = 0
    for status in [Path(f"/proc/{pid}/status")] + [Path(f"/proc/{c}/status") for c in children(pid)]:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return total


def children(pid: int) -> list[int]:
    out: list[int] = []
    for f in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in f.read_text().split()]
    return out


def answer(client, obj, **kw) -> dict:
    status, body = client.post("/validate", review(obj, **kw))
    assert status == 200, body
    return body["response"]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    with WebhookProcess(tmp, policies=POLICIES) as proc:
        yield proc


def test_item1_wide_workflow_under_shipped_policies_is_answered_and_probes_stay_up(shipped):
    """47 KB: 200 templates x 1,000 inherited env. Took ~50 s and 584 MB; /healthz waited."""
    body = many_templates(199, 1000)
    assert len(json.dumps(body)) < 60_000
    probes: list[int] = []
    done = threading.Event()

    def probe():
        client = shipped.client()
        while not done.is_set():
            status, _ = client.request("GET", "/healthz")
            probes.append(status)

    t = threading.Thread(target=probe)
    t.start()
    try:
        r = answer(shipped.client(), body)
    finally:
        done.set()
        t.join(30)
    # Denied either by the registry rule (evaluated in time) or as a rule stopped at its limit; never
    # allowed, never the server's generic timeout.
    assert r["allowed"] is False
    message = r["status"]["message"]
    assert "allowed-registries" in message, message
    assert probes and set(probes) == {200}
    assert tree_kib(shipped.proc.pid) < LIMIT_MIB * 1024
    # The pool is free again: a good workflow is allowed.
    assert answer(shipped.client(), small())["allowed"] is True


EXPENSIVE = {
    "apiVersion": "sluice.dev/v1alpha1",
    "kind": "WorkflowPolicy",
    "metadata": {"name": "cubic"},
    "spec": {
        "match": {"objectSelector": {"matchLabels": {"attack": "yes"}}},
        "validations": [
            {
                "action": "Deny",
                "message": "never reached",
                "expression": "templates.all(a, templates.all(b, templates.all(c, templates.all(d, true))))",
            }
        ],
    },
}


@pytest.fixture(scope="module")
def expensive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("expensive")
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "cubic.yaml").write_text(yaml.safe_dump(EXPENSIVE))
    with WebhookProcess(tmp, policies=policies) as proc:
        yield proc


def test_a_stopped_rule_is_reported_alone_and_the_other_policies_decide(tmp_path):
    """One stopped evaluation used to mark every policy of the request stopped."""
    policies = tmp_path / "policies"
    policies.mkdir()
    # Named to be evaluated first: the registry rule comes after the stopped one, on another worker.
    first = {**EXPENSIVE, "metadata": {"name": "a-cubic"}}
    (policies / "cubic.yaml").write_text(yaml.safe_dump(first))
    (policies / "allowed-registries.yaml").write_text((POLICIES / "allowed-registries.yaml").read_text())
    # A deadline long enough that the request is answered by the policies, not by the server's Timeout.
    with WebhookProcess(tmp_path, policies=policies, extra=["--deadline", "20"]) as proc:
        r = answer(proc.client(), many_templates(199, 0, labels={"attack": "yes"}))
    assert r["allowed"] is False
    message = r["status"]["message"]
    assert "policy a-cubic: rule 0 evaluation stopped after 3s" in message, message
    # The registry rule was evaluated (on another worker) and gives its own answer, not "stopped".
    assert "image evil.example/x" in message and "is not from registry.corp.example/" in message, message


def test_item2_timed_out_evaluations_are_stopped_and_do_not_keep_the_pool_busy(expensive):
    attack = many_templates(199, 0, labels={"attack": "yes"})
    results: list[dict] = []

    def attacker():
        results.append(answer(expensive.client(), attack))

    threads = [threading.Thread(target=attacker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    for r in results:
        assert r["allowed"] is False
        assert "policy cubic" in r["status"]["message"]
        assert "stopped after" in r["status"]["message"] or "within" in r["status"]["message"]
    # Before: every request for the next 15+ s was denied "could not check within 4s". Now the workers
    # were killed and replaced: the next requests are checked (they do not match the policy).
    for i in range(3):
        r = answer(expensive.client(), small(f"after-{i}"))
        assert r["allowed"] is True, r


def test_item2_sigterm_during_an_evaluation_stops_the_server_and_its_workers(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "cubic.yaml").write_text(yaml.safe_dump(EXPENSIVE))
    proc = WebhookProcess(tmp_path, policies=policies, extra=["--deadline", "30"])
    with proc:
        workers = children(proc.proc.pid)
        assert workers
        attack = many_templates(199, 0, labels={"attack": "yes"})
        t = threading.Thread(target=lambda: proc.client().post("/validate", review(attack)), daemon=True)
        t.start()
        time.sleep(1)  # let the evaluation begin (no assertion depends on this timing)
        proc.proc.send_signal(signal.SIGTERM)
        proc.proc.wait(30)  # before: kept burning a core until SIGKILL
        assert proc.proc.returncode is not None
        # The workers (and multiprocessing's resource tracker, which exits once it sees the server gone).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "zombie" not in status


def with_items(n: int) -> dict:
    """Item 3: one task looping over n small objects (300,000: a 2.9 MiB review)."""
    items = [{"a": i % 10} for i in range(n)]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "big", "namespace": "default"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": "s", "template": "t", "withItems": items}]]},
                {
                    "name": "t",
                    "container": {
                        "image": "registry.corp.example/a:1",
                        "command": ["true"],
                        "resources": {"limits": {"memory": "64Mi"}},
                    },
                },
            ],
        },
    }


def peak_kib(pid: int) -> int:
    """The peak RSS (VmHWM) of the server plus that of each worker process alive now."""
    total = 0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(OSError, StopIteration):
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
            total += next(int(line.split()[1]) for line in lines if line.startswith("VmHWM:"))
    return total


@pytest.mark.slow  # two 2.9 MiB reviews on a loaded machine: tens of seconds
def test_item3_a_3_mib_review_stays_under_the_memory_limit(tmp_path):
    body = json.dumps(review(with_items(300_000))).encode()
    assert 2.5 * 2**20 < len(body) < 3 * 2**20  # what kube-apiserver forwards at most
    with WebhookProcess(tmp_path, policies=POLICIES) as proc:
        results: list[dict] = []

        def send():
            status, data = proc.client().post("/validate", body)
            assert status == 200
            results.append(data["response"])

        threads = [threading.Thread(target=send) for _ in range(2)]  # both admission threads at once
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == 2
        for r in results:
            # Bounded, not allowed unchecked: the policies' input is over the cost budget (or their time),
            # or, on a loaded machine, the whole check is stopped at the deadline (its parse counts).
            assert r["allowed"] is False
            message = r["status"]["message"]
            assert "policy allowed-registries" in message or "within 4s" in message, message
        # Before: one request took a fresh server from 70 MB to 702 MB.
        assert peak_kib(proc.proc.pid) < LIMIT_MIB * 1024


@pytest.mark.slow  # four 5.7 MiB reviews, two at a time, on a loaded machine
def test_item3_healthz_answers_while_a_big_review_is_read(tmp_path):
    """The JSON of a big review was parsed on the event loop (one C call holding the GIL): /healthz
    waited up to 671 ms per 2.9 MiB. Now it is read in a pool thread, in pieces."""
    big = with_items(300_000)
    # An UPDATE carries the object twice (object and oldObject): 5.7 MiB, under the 8 MiB body limit.
    body = json.dumps(review(big, operation="UPDATE", old=big)).encode()
    assert 5 * 2**20 < len(body) < 8 * 2**20
    with WebhookProcess(tmp_path) as proc:
        waits: list[float] = []
        done = threading.Event()

        def probe():
            client = proc.client()
            while not done.is_set():
                started = time.monotonic()
                status, _ = client.request("GET", "/healthz")
                assert status == 200
                waits.append(time.monotonic() - started)

        answers: list[bool] = []

        def send():
            status, data = proc.client().post("/validate", body)
            answers.append(status == 200 and data["response"]["allowed"] is True)  # a metadata-only update

        t = threading.Thread(target=probe)
        t.start()
        try:
            for _ in range(2):  # two at a time: before, the loop parsed them back to back
                senders = [threading.Thread(target=send) for _ in range(2)]
                for sender in senders:
                    sender.start()
                for sender in senders:
                    sender.join(120)
        finally:
            done.set()
            t.join(30)
        assert answers == [True] * 4
        assert len(waits) > 10
        # Generous (a loaded 2-core machine); before, each review held the loop 0.4-1 s, two in a row.
        assert max(waits) < HEALTHZ_BOUND, sorted(waits)[-5:]


HEALTHZ_BOUND = 0.75  # seconds; before, worst 0.69-1.57 s at load 33-60; now 0.21-0.32 s there
