"""Leaf template bodies: script, resource, suspend, containerSet, http, data."""

from __future__ import annotations

from workflow.types.artifacts import Artifact
from workflow.types.base import ArgoStruct, IntOrString
from workflow.types.k8s import Container, SecretKeySelector, VolumeMount


class UserContainer(Container):
    """An init container or sidecar: a Container that may mirror main's volume mounts."""

    mirror_volume_mounts: bool | None = None


class ScriptTemplate(Container):
    """A container whose `source` is written to a file and run (the file is appended to `args`)."""

    source: str | None = None


class ContainerNode(Container):
    """A member of a containerSet: a container that may wait for others (`dependencies`)."""

    dependencies: list[str] | None = None


class ManifestFrom(ArgoStruct):
    artifact: Artifact


class ResourceTemplate(ArgoStruct):
    # get | create | apply | delete | replace | patch
    action: str | None = None
    # strategic | merge | json
    merge_strategy: str | None = None
    manifest: str | None = None
    manifest_from: ManifestFrom | None = None
    set_owner_reference: bool | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    flags: list[str] | None = None


class SuspendTemplate(ArgoStruct):
    duration: str | None = None


class ContainerSetRetryStrategy(ArgoStruct):
    duration: str | None = None
    retries: IntOrString | None = None


class ContainerSetTemplate(ArgoStruct):
    containers: list[ContainerNode] | None = None
    volume_mounts: list[VolumeMount] | None = None
    retry_strategy: ContainerSetRetryStrategy | None = None


class HTTPHeaderSource(ArgoStruct):
    secret_key_ref: SecretKeySelector | None = None


class HTTPHeader(ArgoStruct):
    name: str
    value: str | None = None
    value_from: HTTPHeaderSource | None = None


class HTTPBodySource(ArgoStruct):
    # Go []byte: base64 text in JSON
    bytes: str | None = None


class HTTP(ArgoStruct, kw_only=True):
    method: str | None = None
    url: str | None = None
    headers: list[HTTPHeader] | None = None
    timeout_seconds: int | None = None
    success_condition: str | None = None
    body: str | None = None
    body_from: HTTPBodySource | None = None
    insecure_skip_verify: bool | None = None


class ArtifactPaths(Artifact):
    """The artifact whose keys a data template lists."""


class DataSource(ArgoStruct):
    artifact_paths: ArtifactPaths | None = None


class TransformationStep(ArgoStruct):
    expression: str


class Data(ArgoStruct):
    source: DataSource | None = None
    transformation: list[TransformationStep] | None = None
