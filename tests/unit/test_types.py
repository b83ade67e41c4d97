"""The types themselves: Argo's class and JSON names, schema-friendliness, compressed nodes."""

from __future__ import annotations

import base64
import gzip
import json

import msgspec
import pytest

import workflow.types as t
from workflow.parse import decode_compressed_nodes, parse_workflow_status, status_nodes, to_dict
from workflow.types.compress import encode_compressed_nodes
from workflow.types.schema import schema_components

# JSON names that are not the plain camelCase of a snake_case attribute (Go's JSON tags).
UNUSUAL_NAMES = [
    (t.NodeStatus, "boundary_id", "boundaryID"),
    (t.NodeStatus, "pod_ip", "podIP"),
    (t.NodeStatus, "restarting_pod_uid", "restartingPodUID"),
    (t.WorkflowStatus, "artifact_gc_status", "artifactGCStatus"),
    (t.WorkflowSpec, "pod_gc", "podGC"),
    (t.WorkflowSpec, "artifact_gc", "artifactGC"),
    (t.WorkflowSpec, "volume_claim_gc", "volumeClaimGC"),
    (t.Artifact, "artifact_gc", "artifactGC"),
    (t.Artifact, "from_", "from"),
    (t.S3Bucket, "role_arn", "roleARN"),
    (t.S3Bucket, "use_sdk_creds", "useSDKCreds"),
    (t.S3EncryptionOptions, "kms_key_id", "kmsKeyId"),
    (t.GitArtifact, "insecure_skip_tls", "insecureSkipTLS"),
    (t.OAuth2Auth, "client_id_secret", "clientIDSecret"),
    (t.OAuth2Auth, "token_url_secret", "tokenURLSecret"),
    (t.ArtifactoryArtifactRepository, "repo_url", "repoURL"),
    (t.HDFSKrbConfig, "krb_c_cache_secret", "krbCCacheSecret"),
    (t.AzureBlobContainer, "use_sdk_creds", "useSDKCreds"),
    (t.Template, "container_set", "containerSet"),
    (t.WorkflowStep, "with_items", "withItems"),
    (t.PodSecurityContext, "fs_group", "fsGroup"),
    (t.Container, "image_pull_policy", "imagePullPolicy"),
]


@pytest.mark.parametrize(("cls", "attr", "json_name"), UNUSUAL_NAMES)
def test_json_names_match_argo(cls, attr, json_name):
    names = {f.name: f.encode_name for f in msgspec.structs.fields(cls)}
    assert names[attr] == json_name


def test_steps_are_a_list_of_lists_and_items_any_json():
    hints = {f.name: f.type for f in msgspec.structs.fields(t.Template)}
    assert hints["steps"] == list[list[t.WorkflowStep]] | None


@pytest.mark.parametrize(
    "name",
    [
        "Workflow",
        "WorkflowSpec",
        "WorkflowStatus",
        "NodeStatus",
        "Template",
        "WorkflowStep",
        "DAGTemplate",
        "DAGTask",
        "Inputs",
        "Outputs",
        "Parameter",
        "Artifact",
        "ValueFrom",
        "Arguments",
        "RetryStrategy",
        "Backoff",
        "TemplateRef",
        "WorkflowTemplateRef",
        "LifecycleHook",
        "ContinueOn",
        "Sequence",
        "Metadata",
        "ObjectMeta",
        "CronWorkflow",
        "CronWorkflowSpec",
        "WorkflowTemplate",
        "ClusterWorkflowTemplate",
        "WorkflowTaskResult",
        "UserContainer",
        "ScriptTemplate",
        "ResourceTemplate",
        "SuspendTemplate",
        "ContainerSetTemplate",
        "HTTP",
        "Data",
        "Synchronization",
        "Memoize",
        "Metrics",
        "Prometheus",
        "Container",
        "Volume",
        "Affinity",
        "Toleration",
        "PersistentVolumeClaim",
        "EnvVar",
        "Probe",
    ],
)
def test_argo_and_kubernetes_type_names_are_exported(name):
    cls = getattr(t, name)
    assert issubclass(cls, msgspec.Struct)
    assert name in t.__all__


def test_the_script_template_is_a_container_with_source():
    script = t.ScriptTemplate(image="python", source="print(1)")
    assert isinstance(script, t.Container)
    assert to_dict(script) == {"image": "python", "source": "print(1)"}


def test_json_schemas_can_be_generated_for_every_kind():
    kinds = [t.Workflow, t.WorkflowTemplate, t.ClusterWorkflowTemplate, t.CronWorkflow, t.WorkflowTaskResult]
    schemas, defs = schema_components(kinds)
    assert [s["$ref"] for s in schemas] == [f"#/$defs/{k.__name__}" for k in kinds]
    template = defs["Template"]["properties"]
    assert template["plugin"]["anyOf"][0]["x-kubernetes-preserve-unknown-fields"] is True
    assert {"type": "integer"} in defs["Sequence"]["properties"]["count"]["anyOf"]
    assert {"type": "string"} in defs["Sequence"]["properties"]["count"]["anyOf"]


NODES = {
    "wf": {"id": "wf", "name": "wf", "type": "Steps", "phase": "Running", "children": ["wf-1"]},
    "wf-1": {"id": "wf-1", "name": "wf[0]", "type": "StepGroup", "boundaryID": "wf"},
}


def test_compressed_nodes_decode_from_what_argo_writes():
    # Argo: base64(gzip(json(nodes))).
    text = base64.b64encode(gzip.compress(json.dumps(NODES).encode())).decode()
    nodes, problems = decode_compressed_nodes(text)
    assert problems == []
    assert {k: to_dict(v) for k, v in nodes.items()} == NODES


def test_compressed_nodes_round_trip_through_our_encoder():
    text = encode_compressed_nodes(NODES)
    assert gzip.decompress(base64.b64decode(text)) == json.dumps(NODES, separators=(",", ":")).encode()
    parsed = parse_workflow_status({"phase": "Running", "compressedNodes": text})
    assert parsed.errors == []
    assert parsed.obj.compressed_nodes == text  # kept as a string
    nodes, problems = status_nodes(parsed.obj)
    assert problems == [] and sorted(nodes) == ["wf", "wf-1"]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"plain text").decode(), "not gzip data"),
        (base64.b64encode(gzip.compress(b"{nope", mtime=0)).decode(), "not valid JSON"),
    ],
)
def test_bad_compressed_nodes_are_problems_not_exceptions(text, start):
    nodes, problems = decode_compressed_nodes(text)
    assert nodes is None
    assert [p.field for p in problems] == ["status.compressedNodes"]
    assert problems[0].message.startswith(start)


def test_compressed_nodes_with_a_bad_node_report_its_path():
    text = encode_compressed_nodes({"n": {"id": "n", "name": "n", "type": 3}})
    nodes, problems = decode_compressed_nodes(text)
    assert nodes is None
    assert [str(p) for p in problems] == ["status.compressedNodes[n].type: expected a string, got 3"]
