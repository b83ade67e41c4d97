"""Artifact locations Argo accepts and Sluice's executor cannot move (OSS, HDFS, plugin; GCS without a key):
lint and admission keep them valid (Argo's own examples must pass) and warn on the field that names
them (workflow/validate/artifacts.py), with the same supported list the executor's refusal gives
(workflow/artifact_rules.py EXECUTOR_KINDS)."""

from __future__ import annotations

import pytest

from workflow.artifact_rules import EXECUTOR_KINDS, GCS_NEEDS_KEY
from workflow.check import CheckOptions, check_objects
from workflow.load import load_documents

SUPPORTED = ", ".join(EXECUTOR_KINDS)


def check(doc: dict, lint: bool):
    return check_objects([doc], CheckOptions(lint=lint, missing_reference_is_warning=not lint))[0]


def workflow(artifact: dict, where: str = "inputs") -> dict:
    key = "inputs" if where == "inputs" else "outputs"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    key: {"artifacts": [{"name": "a", "path": "/tmp/a", **artifact}]},
                    "container": {"image": "busybox", "command": ["true"]},
                }
            ],
        },
    }


@pytest.mark.parametrize("lint", [False, True], ids=["admission", "lint"])
@pytest.mark.parametrize(
    ("artifact", "where", "field", "message"),
    [
        ({"oss": {"bucket": "b", "key": "k", "endpoint": "e"}}, "inputs", "oss", "oss artifacts are not"),
        (
            {"hdfs": {"addresses": ["a:1"], "path": "/p", "hdfsUser": "u"}},
            "outputs",
            "hdfs",
            "hdfs artifacts are",
        ),
        ({"plugin": {"name": "p", "key": "k"}}, "inputs", "plugin", "plugin artifacts are not"),
        ({"gcs": {"bucket": "b", "key": "k"}}, "outputs", "gcs", GCS_NEEDS_KEY),
        (
            {
                "http": {
                    "url": "https://x.test/a",
                    "auth": {"oauth2": {"tokenURLSecret": {"name": "s", "key": "k"}}},
                }
            },
            "inputs",
            "http.auth.oauth2",
            "http artifacts with oauth2 auth are not supported by Sluice's executor (basicAuth is)",
        ),
        (
            {
                "http": {
                    "url": "https://x.test/a",
                    "auth": {"clientCert": {"clientCertSecret": {"name": "s"}}},
                }
            },
            "outputs",
            "http.auth.clientCert",
            "http artifacts with clientCert auth are not supported",
        ),
    ],
    ids=["oss", "hdfs", "plugin", "gcs-without-key", "http-oauth2", "http-client-cert"],
)
def test_unsupported_locations_warn_on_their_field(lint, artifact, where, field, message):
    report = check(workflow(artifact, where), lint)
    assert report.errors == []
    path = f"spec.templates[0].{where}.artifacts[0].{field}"
    found = [w.message for w in report.warnings if w.field == path]
    assert len(found) == 1 and message in found[0], report.warnings
    assert found[0].endswith("a node that moves this artifact fails")
    if field in ("oss", "hdfs", "plugin"):
        assert f"(supported: {SUPPORTED})" in found[0]


@pytest.mark.parametrize(
    "artifact",
    [
        {"gcs": {"bucket": "b", "key": "k", "serviceAccountKeySecret": {"name": "s", "key": "k"}}},
        {"gcs": {"key": "k"}},  # key-only: the repository supplies bucket and key
        {"s3": {"key": "k"}},
        {"azure": {"blob": "b"}},
    ],
    ids=["gcs-with-key", "gcs-key-only", "s3", "azure"],
)
def test_supported_locations_stay_quiet(artifact):
    report = check(workflow(artifact), False)
    assert report.errors == [] and report.warnings == []


@pytest.mark.parametrize(
    ("example", "path"),
    [
        ("input-artifact-oss.yaml", "spec.templates[0].inputs.artifacts[0].oss"),
        ("hdfs-artifact.yaml", "spec.templates[1].outputs.artifacts[0].hdfs"),
        ("artifact-passing-explicit-plugin.yaml", "spec.templates[1].outputs.artifacts[0].plugin"),
    ],
)
def test_argos_examples_stay_valid_and_are_warned(argo_examples, example, path):
    loaded = load_documents((argo_examples / example).read_bytes())
    report = check_objects([d.data for d in loaded.documents], CheckOptions(lint=True))[0]
    assert report.errors == []
    assert any(
        w.field == path and "not supported by Sluice's executor" in w.message for w in report.warnings
    ), [(w.field, w.message) for w in report.warnings]
