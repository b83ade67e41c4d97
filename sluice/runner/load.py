"""Reading what `sluice run` runs: the Workflow, the templates it references, the ConfigMaps it reads.

The first Workflow in FILE is run; every WorkflowTemplate, ClusterWorkflowTemplate and ConfigMap found in
FILE and in the `--templates` paths is available to it. `-p name=value` sets a global parameter,
`--entrypoint` the entrypoint; a `generateName` gets a random suffix, as the API server would do.
"""

from __future__ import annotations

import copy
import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workflow.load import Document, load_documents, syntax_place
from workflow.resolve.sources import ListSource

SUFFIXES = (".yaml", ".yml", ".json")
MAX_GENERATED_PREFIX = 58  # 63 - 5 random characters


class LoadError(Exception):
    """A one-line reason why there is nothing to run."""


@dataclass
class Loaded:
    workflow: dict[str, Any]
    source: ListSource
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    others: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # the Workflow's (workflow/positions.py)
    note: str = ""  # which object of the file runs, when that is not obvious


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return [path]


def _documents(path: Path, marks: bool = False) -> list[Document]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: {exc.strerror or exc}") from None
    loaded = load_documents(raw, marks=marks)
    if loaded.error:
        at = syntax_place(loaded.error)
        raise LoadError(f"{path}:{at[0]}:{at[1]}: {at[2]}" if at else f"{path}: {loaded.error}")
    return [d for d in loaded.documents if isinstance(d.data, dict)]


def read_documents(path: Path) -> list[dict[str, Any]]:
    return [d.data for d in _documents(path)]


def load(file: Path, extra: list[Path] | None = None) -> Loaded:
    documents = _documents(file, marks=True)
    docs = [d.data for d in documents]
    workflows = [d for d in docs if d.get("kind") == "Workflow"]
    positions: dict[str, tuple[int, int]] = {}
    note = ""
    if workflows:
        first = next(d for d in documents if d.data is workflows[0])
        positions = first.positions
        if len(workflows) > 1:
            meta = workflows[0].get("metadata") if isinstance(workflows[0].get("metadata"), dict) else {}
            label = meta.get("name") or meta.get("generateName") or "(no name)"
            note = (
                f"{file} holds {len(workflows)} Workflows: running the first, {label} (line {first.line}); "
                "the others are ignored"
            )
    else:
        workflows = [_from_template(file, docs)]
        ref = workflows[0]["spec"]["workflowTemplateRef"]
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        note = f'running {kind} "{ref["name"]}" as a Workflow (as argo submit --from {kind.lower()}/{ref["name"]})'
    others = [d for d in docs if d is not workflows[0]]
    for path in extra or ():
        for f in _files(path):
            others.extend(read_documents(f))
    config_maps: dict[str, dict[str, str]] = {}
    for doc in others:
        if doc.get("kind") == "ConfigMap":
            meta = doc.get("metadata") or {}
            data = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
            config_maps[f"{meta.get('namespace') or 'default'}/{meta.get('name')}"] = data
    return Loaded(copy.deepcopy(workflows[0]), ListSource(others), config_maps, others, positions, note)


TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")


def _from_template(file: Path, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A file holding one (Cluster)WorkflowTemplate runs as `argo submit --from workflowtemplate/NAME`
    would: a Workflow whose spec is only a workflowTemplateRef (`--entrypoint` picks another template)."""
    templates = [d for d in docs if d.get("kind") in TEMPLATE_KINDS]
    if len(templates) != 1:
        found = f"{len(templates)} WorkflowTemplates and no Workflow" if templates else "no Workflow"
        raise LoadError(
            f"{file}: {found} in this file; sluice run runs a Workflow, or a file holding one "
            "WorkflowTemplate (add the others with --templates)"
        )
    meta = templates[0].get("metadata") if isinstance(templates[0].get("metadata"), dict) else {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise LoadError(f"{file}: the {templates[0]['kind']} has no metadata.name")
    ref: dict[str, Any] = {"name": name}
    if templates[0]["kind"] == "ClusterWorkflowTemplate":
        ref["clusterScope"] = True
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{name}-"},
        "spec": {"workflowTemplateRef": ref},
    }


def prepare(
    workflow: dict[str, Any],
    parameters: list[tuple[str, str]],
    entrypoint: str | None,
    namespace: str = "default",
) -> dict[str, Any]:
    """The object as the API server would store it: a name, a namespace, a uid, a creationTimestamp."""
    wf = copy.deepcopy(workflow)
    meta = wf.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise LoadError("metadata must be an object")
    if not meta.get("name"):
        prefix = meta.get("generateName")
        if not prefix:
            raise LoadError(
                "the Workflow has neither metadata.name nor metadata.generateName: give it one with --name"
            )
        alphabet = string.ascii_lowercase + string.digits
        prefix = prefix[:MAX_GENERATED_PREFIX]  # the API server's SimpleNameGenerator
        meta["name"] = prefix + "".join(secrets.choice(alphabet) for _ in range(5))
    meta.pop("generateName", None)
    meta.setdefault("namespace", namespace)
    meta.setdefault("uid", str(uuid.uuid4()))
    meta.setdefault("creationTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    spec = wf.setdefault("spec", {})
    if not isinstance(spec, dict):
        raise LoadError("spec must be an object")
    if entrypoint:
        spec["entrypoint"] = entrypoint
    if parameters:
        args = spec.setdefault("arguments", {})
        params = args.setdefault("parameters", [])
        for name, value in parameters:
            for param in params:
                if isinstance(param, dict) and param.get("name") == name:
                    param["value"] = value
                    param.pop("valueFrom", None)
                    break
            else:
                params.append({"name": name, "value": value})
    wf.pop("status", None)
    return wf
