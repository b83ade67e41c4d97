"""Parse Argo objects into typed values, reporting every problem with its field path (docs/architecture.md, contract 4).

    parsed = parse_object(yaml.safe_load(text))
    if parsed.errors: ...            # every problem, e.g. `spec.templates[0].contianer: unknown field "contianer"`
    wf = parsed.obj                  # a workflow.types.Workflow (or WorkflowTemplate, CronWorkflow, ...)
    to_dict(wf) == doc               # back to Argo's JSON, absent fields omitted

The document is first normalised (workflow/parse/normalise.py: Argo v3's removed fields upgraded, once); the
fast path is then one `msgspec.convert`; only when it fails does the walker (parse/walk.py) go over the
document to collect all problems, with paths mapped back to what the user wrote. `Parsed.doc` is the
normalised JSON form (numbers and booleans given for strings rendered as Argo renders them) that
everything downstream reads. Nothing here raises on bad input.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from workflow.errors import Problem, Problems
from workflow.parse.normalise import Normalised, normalise_object
from workflow.parse.walk import collect, problem_from_msgspec
from workflow.types import (
    API_VERSION,
    ARGO_GROUP,
    ClusterWorkflowTemplate,
    CronWorkflow,
    NodeStatus,
    Workflow,
    WorkflowSpec,
    WorkflowStatus,
    WorkflowTaskResult,
    WorkflowTemplate,
)
from workflow.types.base import dec_hook, describe, enc_hook
from workflow.types.compress import decode_compressed_nodes_json

KINDS: dict[str, type] = {
    "Workflow": Workflow,
    "WorkflowTemplate": WorkflowTemplate,
    "ClusterWorkflowTemplate": ClusterWorkflowTemplate,
    "CronWorkflow": CronWorkflow,
    "WorkflowTaskResult": WorkflowTaskResult,
}


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
    # The normalised JSON form (an Argo kind only; set even when there are errors) and its path map.
    normalised: Normalised | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.obj is not None

    @property
    def doc(self) -> Any:
        """The normalised object that validation, resolution, expansion and the engine read."""
        return self.normalised.doc if self.normalised is not None else None


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
    if cls is None or api_version is None or not api_version.startswith(ARGO_GROUP + "/"):
        return parsed  # not an Argo object
    if api_version != API_VERSION:
        parsed.errors.append(Problem("apiVersion", f'expected "{API_VERSION}", got "{api_version}"'))
        return parsed
    norm = normalise_object(doc)
    problems = Problems()
    obj, rendered = _decode(norm.doc, cls, "", problems)
    norm.doc = rendered
    parsed.normalised = norm
    parsed.errors = norm.raw_problems(problems.errors)
    parsed.warnings = norm.warnings + [
        w for w in norm.raw_problems(problems.warnings) if w not in norm.warnings
    ]
    parsed.obj = obj if problems.ok else None
    return parsed


def normalised_workflow(doc: dict[str, Any]) -> dict[str, Any]:
    """The normalised form of a Workflow that is run rather than checked (the engine's input, on every
    step): v3 fields upgraded and the spec's numbers and booleans given for strings rendered as Argo
    renders them (as in `Parsed.doc`), while the status is left as the controller wrote it (its nodes are
    never walked or decoded). Never raises; the input is never modified."""
    doc = normalise_object(doc).doc
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return doc
    try:
        msgspec.convert(spec, WorkflowSpec, strict=True, dec_hook=dec_hook)
        return doc  # every string field is a string already: nothing to render
    except (msgspec.ValidationError, RecursionError):
        pass
    try:
        rendered = collect(spec, WorkflowSpec, "spec", Problems())
    except RecursionError:
        return doc
    return doc if rendered is spec else {**doc, "spec": rendered}


def parse_workflow_status(doc: Any) -> Parsed:
    """Parse a Workflow's `status` on its own (paths start at `status`)."""
    problems = Problems()
    obj = decode(doc, WorkflowStatus, "status", problems)
    return Parsed(
        kind=None, obj=obj if problems.ok else None, errors=problems.errors, warnings=problems.warnings
    )


def decode(value: Any, cls: type, path: str, problems: Problems) -> Any:
    """`value` as a `cls`, or None with every problem appended (paths under `path`)."""
    return _decode(value, cls, path, problems)[0]


def _decode(value: Any, cls: type, path: str, problems: Problems) -> tuple[Any, Any]:
    """(`value` as a `cls` or None, `value` with AnyString numbers and booleans rendered as text)."""
    try:
        return msgspec.convert(value, cls, strict=True, dec_hook=dec_hook), value
    except msgspec.ValidationError as exc:
        first = exc
    except RecursionError:
        problems.error(path, "the document is nested too deeply")
        return None, value
    # Slow path: collect every problem; numbers and booleans given as AnyString are not problems, the
    # walker renders them as strings, and the normalised document decodes on a second try.
    before = len(problems.errors)
    try:
        rendered = collect(value, cls, path, problems)
    except RecursionError:
        problems.error(path, "the document is nested too deeply")
        return None, value
    if len(problems.errors) > before:
        return None, rendered
    try:
        return msgspec.convert(rendered, cls, strict=True, dec_hook=dec_hook), rendered
    except msgspec.ValidationError as exc:
        first = exc
    # The walker must find what msgspec found; if not, msgspec's own message still has a path.
    problems.error(*problem_from_msgspec(first, path))
    return None, rendered


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
