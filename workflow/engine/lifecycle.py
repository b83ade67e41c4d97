"""Objects around a workflow's life:

- first step: `workflowMetadata` labels/annotations (and `labelsFrom` expressions) patched onto the
  Workflow, PVCs from `volumeClaimTemplates` (`<wf>-<claim>`, listed in `status.persistentVolumeClaims`),
  the PodDisruptionBudget of `podDisruptionBudget`;
- pods of fulfilled nodes: deleted by `podGC` (OnPodCompletion / OnPodSuccess), else labelled
  `workflows.argoproj.io/completed=true` once the workflow is done;
- completion: OnWorkflowCompletion / OnWorkflowSuccess pod GC, PVCs deleted by `volumeClaimGC`
  (OnWorkflowSuccess by default), the PDB deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from workflow import names
from workflow.engine import subst
from workflow.engine.defs import SUCCEEDED, EngineError, fulfilled
from workflow.engine.model import CreateObject, DeleteObject, DeletePod, PatchObject
from workflow.engine.state import Operation
from workflow.labels import LABEL_WORKFLOW
from workflow.types import API_VERSION


def _owner(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "name": op.name,
            "uid": op.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def on_start(op: Operation, spec: dict[str, Any]) -> None:
    meta = spec.get("workflowMetadata")
    if isinstance(meta, dict):
        labels = {k: str(v) for k, v in (meta.get("labels") or {}).items()}
        for key, source in (meta.get("labelsFrom") or {}).items():
            expression = (source or {}).get("expression")
            if expression:
                value = subst.evaluate(str(expression), op.globals, {})
                if not isinstance(value, str):
                    raise EngineError(f"workflowMetadata.labelsFrom.{key}: expression did not give a string")
                labels[key] = value
        annotations = {k: str(v) for k, v in (meta.get("annotations") or {}).items()}
        patch: dict[str, Any] = {}
        if labels:
            patch["labels"] = labels
        if annotations:
            patch["annotations"] = annotations
        if patch:
            op.act(PatchObject(API_VERSION, "Workflow", op.namespace, op.name, {"metadata": patch}))
    claims = []
    for claim in spec.get("volumeClaimTemplates") or ():
        if not isinstance(claim, dict):
            continue
        claim_name = (claim.get("metadata") or {}).get("name")
        if not claim_name:
            continue
        pvc = copy.deepcopy(claim)
        pvc["apiVersion"], pvc["kind"] = "v1", "PersistentVolumeClaim"
        pvc_meta = pvc.setdefault("metadata", {})
        pvc_meta["name"] = names.pvc_name(op.name, claim_name)
        pvc_meta["namespace"] = op.namespace
        pvc_meta["ownerReferences"] = _owner(op)
        pvc_meta.setdefault("labels", {})[LABEL_WORKFLOW] = op.name
        op.act(CreateObject(pvc))
        claims.append({"name": claim_name, "persistentVolumeClaim": {"claimName": pvc_meta["name"]}})
    if claims:
        op.status["persistentVolumeClaims"] = claims
    pdb = spec.get("podDisruptionBudget")
    if isinstance(pdb, dict):
        body = copy.deepcopy(pdb)
        body.setdefault("selector", {"matchLabels": {LABEL_WORKFLOW: op.name}})
        op.act(
            CreateObject(
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": op.name, "namespace": op.namespace, "ownerReferences": _owner(op)},
                    "spec": body,
                }
            )
        )


def _gc_strategy(spec: dict[str, Any]) -> str:
    pod_gc = spec.get("podGC")
    return str((pod_gc or {}).get("strategy") or "") if isinstance(pod_gc, dict) else ""


def collect_pods(op: Operation, spec: dict[str, Any]) -> None:
    """OnPodCompletion / OnPodSuccess: delete the pods of fulfilled nodes."""
    strategy = _gc_strategy(spec)
    if strategy not in ("OnPodCompletion", "OnPodSuccess"):
        return
    for node_id, pod in op.observed.pods.items():
        node = op.nodes.get(node_id)
        if pod.deleting or node is None or not fulfilled(node):
            continue
        if strategy == "OnPodSuccess" and node.get("phase") != SUCCEEDED:
            continue
        op.act(DeletePod(pod.name, node_id, f"podGC {strategy}"))


def on_complete(op: Operation, spec: dict[str, Any], phase: str) -> None:
    strategy = _gc_strategy(spec)
    delete_all = strategy == "OnWorkflowCompletion" or (
        strategy == "OnWorkflowSuccess" and phase == SUCCEEDED
    )
    for node_id, pod in op.observed.pods.items():
        if pod.deleting:
            continue
        node = op.nodes.get(node_id)
        if (
            delete_all
            or (strategy == "OnPodCompletion")
            or (strategy == "OnPodSuccess" and node is not None and node.get("phase") == SUCCEEDED)
        ):
            op.act(DeletePod(pod.name, node_id, f"podGC {strategy}"))
        else:
            op.act(
                PatchObject(
                    "v1",
                    "Pod",
                    op.namespace,
                    pod.name,
                    {"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}}},
                )
            )
    claims = op.status.get("persistentVolumeClaims") or []
    gc = str(((spec.get("volumeClaimGC") or {}).get("strategy")) or "OnWorkflowSuccess")
    if claims and (gc == "OnWorkflowCompletion" or (gc == "OnWorkflowSuccess" and phase == SUCCEEDED)):
        for claim in claims:
            claim_name = (claim.get("persistentVolumeClaim") or {}).get("claimName")
            if claim_name:
                op.act(DeleteObject("v1", "PersistentVolumeClaim", op.namespace, claim_name))
        op.status.pop("persistentVolumeClaims", None)
    if isinstance(spec.get("podDisruptionBudget"), dict):
        op.act(DeleteObject("policy/v1", "PodDisruptionBudget", op.namespace, op.name))
