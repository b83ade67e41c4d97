"""Fuzzing the running webhook over HTTPS with hypothesis: 10,000 malformed or random reviews.

Every answer must be a 200 (a well-formed review, answered with the same uid) or a 400/413 with a
reason (anything else); never a 5xx, never a crash, never an internal-error denial; and the process's
memory must stay flat once warm.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_webhook_support import WebhookProcess

EXAMPLES = 1_000  # hypothesis examples, each a batch of BATCH reviews
BATCH = 10
REVIEWS = EXAMPLES * BATCH  # 10,000
WARM = 1_500  # reviews before the memory baseline is taken (caches, pools, allocator arenas)
MAX_RSS_GROWTH_KIB = 24 * 1024

ARGO_KINDS = ["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"]
REPO = Path(__file__).resolve().parents[2]


def corpus(examples_dir: Path) -> list[dict]:
    """Real objects to mutate: Argo's examples and our example policies."""
    docs = []
    for path in sorted(examples_dir.rglob("*.yaml")) + sorted((REPO / "policies").glob("*.yaml")):
        try:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict) and d.get("kind")]
        except yaml.YAMLError:
            continue
    return docs


def random_scalar(r: random.Random):
    return r.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            2**63,
            2**64 + 1,
            1.5,
            -0.0,
            1e308,
            "",
            "x",
            "{{inputs.parameters.x}}",
            "{{=sprig.fail('x')}}",
            "\u0000",
            "é\u202e",
            "a" * r.choice([1, 64, 300, 5000]),
            "Running",
            "*/5 * * * *",
            "../../etc",
            "${HOME}",
            "spec",
            "main",
        ]
    )


def random_json(r: random.Random, depth: int = 0):
    roll = r.random()
    if depth > 3 or roll < 0.5:
        return random_scalar(r)
    if roll < 0.75:
        return [random_json(r, depth + 1) for _ in range(r.randint(0, 3))]
    return {str(random_scalar(r))[:12]: random_json(r, depth + 1) for _ in range(r.randint(0, 3))}


def nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from nodes(v, (*path, i))


def mutate(r: random.Random, doc):
    """One structural change at a random place: delete, replace, retype, duplicate, deepen."""
    places = [(p, v) for p, v in nodes(doc) if p]
    if not places:
        return random_json(r)
    path, value = r.choice(places)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    op = r.randrange(6)
    if op == 0:
        del parent[key]
    elif op == 1:
        parent[key] = random_json(r)
    elif op == 2:
        parent[key] = [value] if not isinstance(value, list) else {"x": value}
    elif op == 3 and isinstance(value, list) and value:
        value.append(copy.deepcopy(r.choice(value)))
    elif op == 4:
        deep = value
        for _ in range(r.choice([10, 60, 200])):
            deep = [deep] if r.random() < 0.5 else {"d": deep}
        parent[key] = deep
    else:
        parent[key] = str(value)[:50]
    return doc


def make_review(r: random.Random, docs: list[dict]) -> bytes:
    obj = copy.deepcopy(r.choice(docs))
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else "Workflow"
    group = "sluice.dev" if kind == "WorkflowPolicy" else ("argoproj.io" if kind in ARGO_KINDS else "")
    operation = r.choice(["CREATE", "CREATE", "CREATE", "UPDATE", "UPDATE", "DELETE", "CONNECT"])
    old = copy.deepcopy(obj) if operation != "CREATE" else None
    if old is not None and r.random() < 0.3:
        old["status"] = {"phase": r.choice(["Running", "Pending", "Succeeded"])}
    for _ in range(r.choice([0, 1, 1, 2, 3, 6])):
        obj = mutate(r, obj)
    if old is not None and r.random() < 0.3:
        old = mutate(r, old)
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.UUID(int=r.getrandbits(128))),
            "kind": {"group": group, "version": "v1alpha1", "kind": kind},
            "operation": operation,
            "namespace": "default",
            "userInfo": {
                "username": r.choice(["alice", "system:serviceaccount:ns:sa", "bob@corp.example", ""])
            },
            "object": obj,
            "oldObject": old,
            "dryRun": r.random() < 0.2,
        },
    }
    if r.random() < 0.15:  # break the envelope itself
        review = mutate(r, review)
    body = json.dumps(review).encode()
    roll = r.random()
    if roll < 0.04:
        body = body[: r.randrange(len(body) + 1)]
    elif roll < 0.07:
        body = bytes(r.getrandbits(8) for _ in range(r.randrange(64)))
    elif roll < 0.09:
        body = json.dumps(random_json(r)).encode()
    return body


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with WebhookProcess(tmp, extra=["--max-request-bytes", "65536"]) as proc:
        yield proc


@pytest.mark.timeout(1800)
@pytest.mark.slow  # long fuzzing: CI runs it, `make unit` does not
def test_ten_thousand_random_reviews(webhook, argo_examples):
    docs = corpus(argo_examples)
    assert len(docs) > 150
    client = webhook.client()
    seen = {"n": 0, "baseline": 0, "by_status": {}, "internal": []}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(r=st.randoms(use_true_random=False))
    def batch(r):
        for _ in range(BATCH):
            body = make_review(r, docs)
            path = r.choice(["/validate", "/mutate"])
            status, answer = client.post(path, body)
            seen["n"] += 1
            seen["by_status"][status] = seen["by_status"].get(status, 0) + 1
            if seen["n"] == WARM:
                seen["baseline"] = webhook.rss_kib()
            assert status in (200, 400, 413), (status, body[:300])
            assert isinstance(answer, dict), answer
            if status == 200:
                sent = json.loads(body)
                response = answer["response"]
                assert response["uid"] == sent["request"]["uid"]
                assert isinstance(response["allowed"], bool)
                code = response.get("status", {}).get("code")
                assert code != 504, response
                if code == 500:
                    seen["internal"].append(body)
            else:
                assert answer["code"] == status and answer["message"]

    batch()
    client.close()
    assert seen["n"] >= REVIEWS
    assert webhook.proc.poll() is None, "the webhook died"
    growth = webhook.rss_kib() - seen["baseline"]
    assert growth < MAX_RSS_GROWTH_KIB, f"RSS grew {growth} KiB after warm-up"
    assert seen["by_status"].get(200, 0) > REVIEWS // 2, seen["by_status"]  # most reviews were well-formed
    assert seen["by_status"].get(400, 0) > 100, seen["by_status"]
    assert not seen["internal"], (
        f"{len(seen['internal'])} internal errors, first: {seen['internal'][0][:500]!r}"
    )
