"""Real validation over real HTTPS: the core's table of invalid objects is denied with its field paths,
every Argo example is allowed, and missing references are warnings, not denials."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from test_webhook_support import WebhookProcess, review

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "invalid"


def header(text: str) -> tuple[str, list[tuple[str, str]]]:
    options, expected = "", []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].strip().partition(":")
        if key == "options":
            options = value.strip()
        elif key == "error":
            path, _, fragment = value.strip().partition(" :: ")
            expected.append((path.strip(), fragment.strip()))
    return options, expected


# Admission checks with the webhook's options (no templateReferencing restriction configured).
CASES = [p for p in sorted(FIXTURES.glob("*.yaml")) if not header(p.read_text())[0]]


def namespace_of(path: Path) -> str:
    return "fx-" + path.stem[:50].lower()


@pytest.fixture(scope="module")
def table_webhook(tmp_path_factory):
    """One webhook for the whole table: each fixture's extra templates live in the fixture's namespace."""
    tmp = tmp_path_factory.mktemp("table")
    templates = tmp / "templates"
    templates.mkdir()
    for path in CASES:
        for i, doc in enumerate(list(yaml.safe_load_all(path.read_text()))[1:]):
            if isinstance(doc, dict) and doc.get("kind") == "WorkflowTemplate":
                doc = copy.deepcopy(doc)
                doc.setdefault("metadata", {})["namespace"] = namespace_of(path)
                (templates / f"{path.stem}-{i}.yaml").write_text(yaml.safe_dump(doc))
    with WebhookProcess(tmp, templates=templates) as proc:
        yield proc


@pytest.fixture(scope="module")
def table_client(table_webhook):
    c = table_webhook.client()
    yield c
    c.close()


def test_the_table_is_there():
    assert len(CASES) >= 100


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_invalid_object_of_the_core_table_is_denied_with_its_field_paths(table_client, path):
    text = path.read_text()
    _, expected = header(text)
    doc = next(yaml.safe_load_all(text))
    kind = doc.get("kind") if isinstance(doc, dict) and isinstance(doc.get("kind"), str) else "Workflow"
    namespace = None if kind == "ClusterWorkflowTemplate" else namespace_of(path)
    status, answer = table_client.post("/validate", review(doc, kind=kind, namespace=namespace))
    assert status == 200
    response = answer["response"]
    warnings = response.get("warnings", [])
    # A reference that does not exist yet is a warning at admission (contract 8), not a denial.
    still_errors = [
        (p, f) for p, f in expected if not any(w.startswith(f"{p}: ") and f in w for w in warnings)
    ]
    if not still_errors:
        assert response["allowed"] is True
        return
    assert response["allowed"] is False, response
    st = response["status"]
    assert (st["code"], st["reason"], st["details"]["kind"]) == (422, "Invalid", kind)
    causes = [(c["field"], c["message"]) for c in st["details"]["causes"]]
    missing = [(p, f) for p, f in still_errors if not any(field == p and f in msg for field, msg in causes)]
    assert not missing, f"{path.name}: not among the causes: {missing}\ncauses: {causes}"
    for p, _ in still_errors:
        assert p in st["message"]


@pytest.fixture(scope="module")
def examples_webhook(tmp_path_factory, argo_examples):
    # Argo's e2e applies every WorkflowTemplate and ClusterWorkflowTemplate of the examples first.
    with WebhookProcess(tmp_path_factory.mktemp("examples"), templates=argo_examples) as proc:
        yield proc


def argo_documents(root: Path):
    for path in sorted(root.rglob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if (
                isinstance(doc, dict)
                and doc.get("apiVersion", "").startswith("argoproj.io/")
                and doc.get("kind")
                in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
            ):
                yield path.relative_to(root), i, doc


def test_every_argo_example_is_allowed(examples_webhook, argo_examples):
    client = examples_webhook.client()
    denied, count = [], 0
    for rel, i, doc in argo_documents(argo_examples):
        count += 1
        kind = doc["kind"]
        status, answer = client.post(
            "/validate",
            review(doc, kind=kind, namespace=None if kind == "ClusterWorkflowTemplate" else "argo"),
        )
        assert status == 200
        if not answer["response"]["allowed"]:
            denied.append(f"{rel}#{i}: {answer['response']['status']['message']}")
    client.close()
    assert count > 150
    assert not denied, "\n".join(denied)


def test_a_missing_reference_is_a_warning_and_the_workflow_is_admitted(examples_webhook):
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "w-"},
        "spec": {"workflowTemplateRef": {"name": "synced-later"}},
    }
    status, answer = examples_webhook.client().post("/validate", review(wf))
    response = answer["response"]
    assert status == 200 and response["allowed"] is True
    assert any("synced-later" in w for w in response["warnings"]), response


RESTRICTED = [
    p for p in sorted(FIXTURES.glob("*.yaml")) if header(p.read_text())[0].startswith("template_referencing=")
]


@pytest.mark.parametrize("path", RESTRICTED, ids=[p.stem for p in RESTRICTED])
def test_template_referencing_restrictions_are_enforced_when_configured(tmp_path, path):
    text = path.read_text()
    options, expected = header(text)
    mode = options.split("=", 1)[1]
    docs = list(yaml.safe_load_all(text))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.yaml").write_text(yaml.safe_dump_all(docs[1:]))
    doc = docs[0]
    with WebhookProcess(tmp_path, templates=templates, extra=["--template-referencing", mode]) as proc:
        client = proc.client()
        status, answer = client.post("/validate", review(doc, kind=doc["kind"], namespace="default"))
        client.close()
    assert status == 200 and answer["response"]["allowed"] is False
    causes = [(c["field"], c["message"]) for c in answer["response"]["status"]["details"]["causes"]]
    for p, fragment in expected:
        assert any(field == p and fragment in msg for field, msg in causes), causes
    # Without the restriction the same object is admitted.
    (tmp_path / "open").mkdir()
    with WebhookProcess(tmp_path / "open", templates=templates) as proc:
        client = proc.client()
        _, answer = client.post("/validate", review(doc, kind=doc["kind"], namespace="default"))
        client.close()
    assert answer["response"]["allowed"] is True
