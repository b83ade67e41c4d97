"""Parse Argo objects into typed values, reporting every problem with its field path (DESIGN.md, contract 4).

    parsed = parse_object(yaml.safe_load(text))
    if parsed.errors: ...            # every problem, e.g. `spec.templates[0].contianer: unknown field "contianer"`
    wf = parsed.obj                  # a workflow.types.Workflow (or WorkflowTemplate, CronWorkflow, ...)
    to_dict(wf) == doc               # back to Argo's JSON, absent fields omitted

The fast path is one `msgspec.convert`; only when it fails does the walker (parse_walk.py) go over the raw
document to collect all problems. Nothing here raises on bad input.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from workflow.errors import Problem, Problems
from workflow.parse_legacy import upgrade_cron_spec, upgrade_template, upgrade_workflow_spec
from workflow.parse_walk import collect, describe, map_child, problem_from_msgspec
from workflow.types import (
    API_VERSION,
    ClusterWorkflowTemplate,
    CronWorkflow,
    NodeStatus,
    Workflow,
    WorkflowStatus,
    WorkflowTaskResult,
    WorkflowTemplate,
)
from workflow.types.base import dec_hook, enc_hook
from workflow.types.compress import decode_compressed_nodes_json

KINDS: dict[str, type] = {
    "Workflow": Workflow,
    "WorkflowTemplate": WorkflowTemplate,
    "ClusterWorkflowTemplate": ClusterWorkflowTemplate,
    "CronWorkflow": CronWorkflow,
    "WorkflowTaskResult": WorkflowTaskResult,
}
GROUP = API_VERSION.split("/")[0]


@dataclass(slots=True)
class Parsed:
    """The outcome of parsing one document. `obj` is None whenever there are errors (or the kind is not
    one of Argo's, in which case there are no errors either: the caller decides to skip it)."""

    kind: str | None
    api_version: str | None = None
    name: str | None = None
    namespace: str | None = None
    obj: Any = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.obj is not None


def parse_object(doc: Any) -> Parsed:
    """Parse one Argo object (a dict as loaded from YAML or JSON)."""
    if not isinstance(doc, Mapping):
        return Parsed(kind=None, errors=[Problem("", f"expected an object (a mapping), got {describe(doc)}")])
    kind = doc.get("kind") if isinstance(doc.get("kind"), str) else None
    api_version = doc.get("apiVersion") if isinstance(doc.get("apiVersion"), str) else None
    meta = doc.get("metadata")
    name = namespace = None
    if isinstance(meta, Mapping):
        name = meta.get("name") if isinstance(meta.get("name"), str) else None
        namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    parsed = Parsed(kind=kind, api_version=api_version, name=name, namespace=namespace)
    cls = KINDS.get(kind or "")
    if cls is None or api_version is None or not api_version.startswith(GROUP + "/"):
        return parsed  # not an Argo object
    if api_version != API_VERSION:
        parsed.errors.append(Problem("apiVersion", f'expected "{API_VERSION}", got "{api_version}"'))
        return parsed
    problems = Problems()
    obj = decode(doc, cls, "", problems)
    if obj is not None:
        _upgrade_legacy(obj, problems)
    parsed.errors, parsed.warnings = problems.errors, problems.warnings
    parsed.obj = obj if problems.ok else None
    return parsed


def parse_workflow_status(doc: Any) -> Parsed:
    """Parse a Workflow's `status` on its own (paths start at `status`)."""
    problems = Problems()
    obj = decode(doc, WorkflowStatus, "status", problems)
    return Parsed(
        kind=None, obj=obj if problems.ok else None, errors=problems.errors, warnings=problems.warnings
    )


def decode(value: Any, cls: type, path: str, problems: Problems) -> Any:
    """`value` as a `cls`, or None with every problem appended (paths under `path`)."""
    try:
        return msgspec.convert(value, cls, strict=True, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        first = exc
    except RecursionError:
        problems.error(path, "the document is nested too deeply")
        return None
    # Slow path: collect every problem; numbers and booleans given as AnyString are not problems, the
    # walker renders them as strings, and the normalised document decodes on a second try.
    before, warned = len(problems.errors), len(problems.warnings)
    try:
        normalised = collect(value, cls, path, problems)
    except RecursionError:
        problems.error(path, "the document is nested too deeply")
        return None
    if len(problems.errors) > before:
        return None
    try:
        obj = msgspec.convert(normalised, cls, strict=True, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        first = exc
    else:
        # The typed legacy pass (parse_legacy.py) reports these again on the decoded object.
        del problems.warnings[warned:]
        return obj
    # The walker must find what msgspec found; if not, msgspec's own message still has a path.
    problems.error(*problem_from_msgspec(first, path))
    return None


def decode_compressed_nodes(text: str) -> tuple[dict[str, NodeStatus] | None, list[Problem]]:
    """The nodes held gzip+base64 in `status.compressedNodes`, typed, or the problems found."""
    raw, problem = decode_compressed_nodes_json(text)
    if problem is not None:
        return None, [problem]
    problems = Problems()
    nodes = decode(raw, dict[str, NodeStatus], "status.compressedNodes", problems)
    return nodes, problems.errors


def status_nodes(status: WorkflowStatus) -> tuple[dict[str, NodeStatus], list[Problem]]:
    """A status's nodes, decompressed from `compressedNodes` when that is where they are."""
    if status.nodes:
        return status.nodes, []
    if status.compressed_nodes:
        nodes, errors = decode_compressed_nodes(status.compressed_nodes)
        return nodes or {}, errors
    return {}, []


def to_dict(obj: Any) -> Any:
    """Back to Argo's JSON form (dicts, lists, strings, numbers), absent fields omitted."""
    # The result is a fresh tree without cycles; pausing the cycle collector while it is built halves
    # the time for a 10,000-node status (every new dict and list would otherwise count toward a
    # collection of everything already tracked).
    if not gc.isenabled():
        return msgspec.to_builtins(obj, enc_hook=enc_hook)
    gc.disable()
    try:
        return msgspec.to_builtins(obj, enc_hook=enc_hook)
    finally:
        gc.enable()


def to_json(obj: Any) -> bytes:
    return msgspec.json.encode(obj, enc_hook=enc_hook)


def _upgrade_legacy(obj: Any, problems: Problems) -> None:
    if isinstance(obj, CronWorkflow):
        if obj.spec is not None:
            upgrade_cron_spec(obj.spec, "spec", problems)
        return
    spec = getattr(obj, "spec", None)
    if spec is not None:
        upgrade_workflow_spec(spec, "spec", problems)
    status = getattr(obj, "status", None)
    if isinstance(status, WorkflowStatus):
        # Copies the controller made: converted the same way, but not the user's to fix.
        quiet = Problems()
        if status.stored_workflow_template_spec is not None:
            upgrade_workflow_spec(status.stored_workflow_template_spec, "", quiet)
        for key, template in (status.stored_templates or {}).items():
            upgrade_template(template, map_child("status.storedTemplates", key), quiet)
