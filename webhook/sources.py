"""Where the webhook looks up WorkflowTemplates and ClusterWorkflowTemplates (a `TemplateSource`).

`TemplateStore` is an in-memory index that both the file loader (`--templates DIR`, offline and in
tests) and the informer cache (cluster.py) fill; lookups never do I/O. Updates replace the index
dicts as a whole, so a lookup from a worker thread sees either the old or the new state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workflow.load import load_documents

log = logging.getLogger("sluice.webhook")

YAML_SUFFIXES = (".yaml", ".yml", ".json")


class TemplateStore:
    """Templates by (namespace, name) and cluster templates by name."""

    def __init__(self) -> None:
        self._namespaced: dict[tuple[str | None, str], dict[str, Any]] = {}
        self._cluster: dict[str, dict[str, Any]] = {}
        self.generation = 0  # bumped on every change: cached check results depend on it

    # TemplateSource --------------------------------------------------------------------------------
    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        found = self._namespaced.get((namespace, name))
        if found is None:  # a template file without a namespace serves every namespace (offline use)
            found = self._namespaced.get((None, name))
        return found

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None:
        return self._cluster.get(name)

    # updates ----------------------------------------------------------------------------------------
    def put(self, doc: dict[str, Any]) -> bool:
        kind, name, namespace = _identity(doc)
        if name is None:
            return False
        if kind == "WorkflowTemplate":
            index = dict(self._namespaced)
            index[(namespace, name)] = doc
            self._namespaced = index
            self.generation += 1
        elif kind == "ClusterWorkflowTemplate":
            cluster = dict(self._cluster)
            cluster[name] = doc
            self._cluster = cluster
            self.generation += 1
        else:
            return False
        return True

    def remove(self, doc: dict[str, Any]) -> None:
        kind, name, namespace = _identity(doc)
        if kind == "WorkflowTemplate":
            index = dict(self._namespaced)
            index.pop((namespace, name), None)
            self._namespaced = index
            self.generation += 1
        elif kind == "ClusterWorkflowTemplate":
            cluster = dict(self._cluster)
            cluster.pop(name or "", None)
            self._cluster = cluster
            self.generation += 1

    def replace(self, kind: str, docs: Iterable[dict[str, Any]]) -> None:
        """The full list of one kind (an informer's initial list or relist)."""
        if kind == "WorkflowTemplate":
            self._namespaced = {(ns, n): d for d in docs for k, n, ns in [_identity(d)] if n and k == kind}
        elif kind == "ClusterWorkflowTemplate":
            self._cluster = {n: d for d in docs for k, n, _ in [_identity(d)] if n and k == kind}
        self.generation += 1

    def __len__(self) -> int:
        return len(self._namespaced) + len(self._cluster)


def _identity(doc: Any) -> tuple[str | None, str | None, str | None]:
    if not isinstance(doc, dict):
        return None, None, None
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name, namespace = meta.get("name"), meta.get("namespace")
    return (
        doc.get("kind") if isinstance(doc.get("kind"), str) else None,
        name if isinstance(name, str) and name else None,
        namespace if isinstance(namespace, str) and namespace else None,
    )


def yaml_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)


def documents_in(paths: Iterable[Path]) -> Iterable[tuple[Path, Any]]:
    """Every document of every file; a file that cannot be read is logged and skipped."""
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            log.warning("cannot read %s: %s", path, exc.strerror)
            continue
        loaded = load_documents(raw)
        if loaded.error:
            log.warning("skipping %s: %s", path, loaded.error)
            continue
        for doc in loaded.documents:
            yield path, doc.data


def load_template_dir(root: Path, store: TemplateStore | None = None) -> TemplateStore:
    """Every WorkflowTemplate and ClusterWorkflowTemplate under `root` (other kinds are ignored)."""
    store = TemplateStore() if store is None else store
    fresh = {"WorkflowTemplate": [], "ClusterWorkflowTemplate": []}
    for _, doc in documents_in(yaml_files(root)):
        if isinstance(doc, dict) and doc.get("kind") in fresh:
            fresh[doc["kind"]].append(doc)
    for kind, docs in fresh.items():
        store.replace(kind, docs)
    return store
