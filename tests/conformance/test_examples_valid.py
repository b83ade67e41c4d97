"""No false rejections: every Argo object in Argo's examples passes validation.

All Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow documents are checked together
with `check_objects`, so templateRef / workflowTemplateRef resolve among them (as upstream's e2e applies
the templates before running the workflows). Checked as `argo submit` would (no lint leniency) and as
`sluice lint` does.
"""

from __future__ import annotations

from collections import Counter

import pytest

from workflow.check import ARGO_KINDS, CheckOptions, check_objects
from workflow.load import load_documents


def _corpus(root):
    docs, files = [], []
    for path in sorted(root.rglob("*.yaml")):
        loaded = load_documents(path.read_bytes())
        assert loaded.error is None, f"{path}: {loaded.error}"
        for doc in loaded.documents:
            docs.append(doc.data)
            files.append(str(path.relative_to(root)))
    return docs, files


@pytest.fixture(scope="module")
def corpus(argo_examples):
    return _corpus(argo_examples)


@pytest.mark.parametrize("lint", [False, True], ids=["submit", "lint"])
def test_every_argo_example_is_valid(corpus, lint):
    docs, files = corpus
    reports = check_objects(docs, CheckOptions(lint=lint))
    assert len(reports) == len(docs)
    checked = Counter(r.kind for r in reports if not r.skipped)
    assert set(checked) == set(ARGO_KINDS), checked
    assert checked["Workflow"] > 150 and checked["WorkflowTemplate"] >= 10 and checked["CronWorkflow"] >= 4
    rejected = [
        f"{file}: {r.kind}/{r.name}: {e}" for file, r in zip(files, reports, strict=True) for e in r.errors
    ]
    assert not rejected, "\n".join(rejected)


def test_examples_expand_with_their_references(corpus):
    docs, files = corpus
    reports = check_objects(docs, CheckOptions(lint=True))
    by_file = {f: r for f, r in zip(files, reports, strict=True) if r.kind == "Workflow"}
    # A workflowTemplateRef Workflow runs the template's spec: its containers come from the template.
    ref = by_file["workflow-template/workflow-template-ref.yaml"]
    assert ref.expanded["spec"]["templates"], "the referenced template's templates are in the expanded spec"
    assert {c["role"] for c in ref.containers} == {"main"} and ref.containers[0]["image"]
    # A templateRef is kept as written and the template it reaches is stored under Argo's key.
    steps = by_file["workflow-template/steps.yaml"]
    stored = steps.expanded["status"]["storedTemplates"]
    assert any(key.startswith("namespaced/") for key in stored)


def test_argo_kinds_not_handled_are_skipped_with_a_warning(corpus):
    docs, _ = corpus
    reports = check_objects(docs)
    bindings = [r for r in reports if r.kind == "WorkflowEventBinding"]
    assert bindings and all(r.skipped and r.warnings and not r.errors for r in bindings)
    others = [r for r in reports if r.kind in ("ConfigMap", "PersistentVolumeClaim", "ResourceQuota")]
    assert others and all(r.skipped and not r.warnings and not r.errors for r in others)
