"""The top-level objects: Workflow, WorkflowTemplate, ClusterWorkflowTemplate, WorkflowTaskResult."""

from __future__ import annotations

from workflow.types.base import ArgoStruct
from workflow.types.k8s import ObjectMeta
from workflow.types.params import Outputs
from workflow.types.spec import WorkflowSpec
from workflow.types.status import WorkflowStatus

ARGO_GROUP = "argoproj.io"  # the API group of every Argo kind (sluice's own is sluice.dev)
ARGO_VERSION = "v1alpha1"
API_VERSION = f"{ARGO_GROUP}/{ARGO_VERSION}"


class Workflow(ArgoStruct):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: WorkflowSpec | None = None
    status: WorkflowStatus | None = None


class WorkflowTemplate(ArgoStruct):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: WorkflowSpec | None = None


class ClusterWorkflowTemplate(ArgoStruct):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: WorkflowSpec | None = None


class NodeResult(ArgoStruct):
    phase: str | None = None
    message: str | None = None
    outputs: Outputs | None = None
    progress: str | None = None


class WorkflowTaskResult(NodeResult):
    """The executor's report for one node, named by node ID; the controller merges it into the node."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
