"""Offline policy evaluation behind `sluice policy test`: each document goes through Admission.validate
exactly as an AdmissionReview would, and the outcome is printed one line per finding."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, TextIO

from webhook.admission import Admission
from webhook.policy.cel import evaluator
from webhook.policy.engine import PolicySet
from webhook.review import AdmissionRequest
from webhook.sources import TemplateStore, documents_in, load_template_dir, yaml_files
from workflow.check import ARGO_KINDS
from workflow.types import ARGO_GROUP


def _request(doc: dict[str, Any], *, namespace: str, user: str, operation: str) -> AdmissionRequest:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    cluster_scoped = doc.get("kind") == "ClusterWorkflowTemplate"
    ns = None if cluster_scoped else (meta.get("namespace") or namespace)
    return AdmissionRequest(
        api_version="admission.k8s.io/v1",
        uid=str(uuid.uuid4()),
        group=ARGO_GROUP,
        version="v1alpha1",
        kind=doc["kind"],
        operation=operation,
        namespace=ns,
        name=meta.get("name") or meta.get("generateName"),
        object=doc,
        old_object=doc if operation == "UPDATE" else None,
        user_info={"username": user},
        dry_run=True,
    )


def run_policy_test(
    *,
    policy: Path,
    files: list[Path],
    templates: list[Path],
    namespace: str,
    user: str,
    operation: str,
    evaluator_name: str,
    out: TextIO,
) -> int:
    policies = PolicySet(evaluator(evaluator_name))
    refused = False
    loaded = 0
    for path, doc in documents_in(yaml_files(policy)):
        if isinstance(doc, dict) and doc.get("kind") == "WorkflowPolicy":
            loaded += 1
            for problem in policies.load(doc):
                refused = True
                print(f"{path}: policy refused: {problem}", file=out)
    if not loaded:
        print(f"{policy}: no WorkflowPolicy found", file=out)
        return 1
    if refused:
        return 1

    store = TemplateStore()
    for root in templates:
        load_template_dir(root, store)
    documents = [(p, d) for p, d in documents_in(f for root in files for f in yaml_files(root))]
    for _, doc in documents:
        if isinstance(doc, dict) and doc.get("kind") in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
            store.put(doc)

    admission = Admission(source=store, policies=policies)
    denied = False
    for path, doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") not in ARGO_KINDS:
            continue
        req = _request(doc, namespace=namespace, user=user, operation=operation)
        if operation == "UPDATE":
            req.old_object = {**doc, "spec": None}  # force a full check: the spec "changed"
        verdict = admission.validate(req)
        label = f"{path}: {req.kind}/{req.name or '?'}"
        if verdict.allowed:
            print(f"{label}: allowed", file=out)
        else:
            denied = True
            causes = (verdict.status or {}).get("details", {}).get("causes") or []
            if causes:
                for cause in causes:
                    where = f"{cause['field']}: " if cause.get("field") else ""
                    print(f"{label}: denied: {where}{cause['message']}", file=out)
            else:
                print(f"{label}: denied: {(verdict.status or {}).get('message', '')}", file=out)
        for warning in verdict.warnings:
            print(f"{label}: warning: {warning}", file=out)
        for key, message in sorted(verdict.audit.items()):
            print(f"{label}: audit: {key}: {message}", file=out)
    return 1 if denied else 0
