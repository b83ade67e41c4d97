"""Kubernetes core types used inside Argo objects.

Interim: free-form objects until the generated module (tools/gen_k8s_types.py) replaces them.
"""

from __future__ import annotations

from typing import Any

from workflow.types.base import ArgoStruct

K8sObject = dict[str, Any]

Container = K8sObject
Volume = K8sObject
VolumeMount = K8sObject
Affinity = K8sObject
Toleration = K8sObject
SecurityContext = K8sObject
PodSecurityContext = K8sObject
ResourceRequirements = K8sObject
EnvVar = K8sObject
EnvFromSource = K8sObject
Probe = K8sObject
PersistentVolumeClaim = K8sObject
PodDNSConfig = K8sObject
HostAlias = K8sObject
LocalObjectReference = K8sObject
SecretKeySelector = K8sObject
ConfigMapKeySelector = K8sObject
PodDisruptionBudgetSpec = K8sObject
PodResourceClaim = K8sObject
ObjectReference = K8sObject
ManagedFieldsEntry = K8sObject
OwnerReference = K8sObject
LabelSelector = K8sObject


class ObjectMeta(ArgoStruct):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    self_link: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[ManagedFieldsEntry] | None = None
