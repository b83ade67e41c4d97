"""Where templateRef / workflowTemplateRef are looked up: the one `TemplateSource` protocol and two sources.

`ListSource` serves the (Cluster)WorkflowTemplates found among a list of documents (`sluice lint` over
files, `check_objects`, tests). `NoSource` knows no templates (a lone object). The webhook and the
controller bring their own source over an informer cache; all they need is the two methods of
`TemplateSource` (re-exported as `workflow.check.TemplateSource` and `workflow.engine.TemplateSource`).
"""

from __future__ import annotations

from typing import Any, Protocol


class TemplateSource(Protocol):
    """Where templateRef / workflowTemplateRef are looked up (files, an informer cache, a test table).
    Each returns the object as JSON (as the API server or a file gives it), or None when there is none."""

    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None: ...


def _meta(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        return None, None
    name, ns = meta.get("name"), meta.get("namespace")
    return (name if isinstance(name, str) else None), (ns if isinstance(ns, str) and ns else None)


class NoSource:
    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return None

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None:
        return None


class ListSource:
    """Templates among a list of documents.

    A WorkflowTemplate is looked up by namespace and name; one written without a namespace (files meant
    for `kubectl apply -n ...`) matches any namespace, and so does a lookup without one.
    """

    def __init__(self, docs: list[Any]):
        self._wft: dict[str, list[tuple[str | None, dict[str, Any]]]] = {}
        self._cwft: dict[str, dict[str, Any]] = {}
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            kind = doc.get("kind")
            name, ns = _meta(doc)
            if not name:
                continue
            if kind == "WorkflowTemplate":
                self._wft.setdefault(name, []).append((ns, doc))
            elif kind == "ClusterWorkflowTemplate":
                self._cwft.setdefault(name, doc)

    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        candidates = self._wft.get(name, [])
        for ns, doc in candidates:
            if ns == namespace:
                return doc
        for ns, doc in candidates:
            if ns is None or namespace is None:
                return doc
        return None

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None:
        return self._cwft.get(name)
