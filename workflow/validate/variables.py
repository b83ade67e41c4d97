"""Which `{{simple tags}}` resolve where: Argo's scoping rules.

A `Scope` answers "does this tag resolve here?" without copying sets per step or task: the globals are
shared, a template adds its own keys, loops add items, and steps/tasks are `Producer`s whose visibility
depends on the position of the reader (steps: earlier in document order; DAG tasks: ancestors only).
Only tags under Argo's checked prefixes are looked at; `{{foo}}` passes and stays literal at runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflow.merge import template_type
from workflow.templating import CHECKED_PREFIXES
from workflow.validate.util import get_list, get_map, get_str, is_param_tag, named

# Accepted by prefix whatever the scope (validate.go resolveAllVariables).
EXEMPT_PREFIXES = (
    "outputs.",
    "workflow.creationTimestamp",
    "workflow.scheduledTime",
    "workflow.duration",
    "tasks.name",
    "steps.name",
    "node.name",
)
POD_TYPES = ("container", "containerSet", "script", "resource", "data")
LEAF_TYPES = ("container", "containerSet", "script", "resource", "data", "http", "plugin", "suspend")
NODE_FIELDS = ("id", "startedAt", "finishedAt", "hostNodeName")


@dataclass(slots=True)
class TemplateInfo:
    """What callers can see of a template: its type and the outputs its steps/tasks expose."""

    type: str | None
    daemon: bool = False
    has_output: bool = False  # outputs.result and exitCode
    out_params: frozenset[str] = frozenset()
    out_arts: frozenset[str] = frozenset()
    name: str = ""


def template_info(tmpl: dict[str, Any]) -> TemplateInfo:
    kind = template_type(tmpl)
    outputs = get_map(tmpl, "outputs")
    params = frozenset(get_str(p, "name") for _, p in named(get_list(outputs, "parameters")))
    arts = frozenset(get_str(a, "name") for _, a in named(get_list(outputs, "artifacts")))
    has_output = kind in ("container", "script", "data", "http", "plugin")
    if kind == "containerSet":
        members = get_list(get_map(tmpl, "containerSet"), "containers")
        has_output = any(get_str(c, "name") == "main" for _, c in named(members))
    return TemplateInfo(kind, tmpl.get("daemon") is True, has_output, params, arts, get_str(tmpl, "name"))


def is_leaf(kind: str | None) -> bool:
    return kind in LEAF_TYPES


@dataclass(slots=True)
class GlobalScope:
    keys: set[str] = field(default_factory=set)
    any_params: bool = False  # a WorkflowTemplate alone: parameters come from the Workflow that uses it
    any_out_params: bool = False  # a globalName that is itself a tag: resolved at runtime
    any_out_arts: bool = False

    def resolves(self, tag: str, exit_handler: bool) -> bool:
        if tag in self.keys:
            return True
        if tag == "workflow.failures":
            return exit_handler
        if self.any_params and tag.startswith("workflow.parameters"):
            return True
        if self.any_out_params and tag.startswith("workflow.outputs.parameters."):
            return True
        return self.any_out_arts and tag.startswith("workflow.outputs.artifacts.")


def build_globals(
    spec: dict[str, Any],
    metadata_sources: list[dict[str, Any] | None],
    out_templates: list[dict[str, Any]],
    template_validation: bool,
) -> GlobalScope:
    """The global scope of a workflow (validate.go ValidateWorkflow).

    `spec` is the effective spec (arguments merged); `metadata_sources` are the maps whose keys become
    workflow.labels/annotations; `out_templates` every template whose outputs may set a globalName.
    """
    g = GlobalScope(any_params=template_validation)
    keys = g.keys
    for name in ("name", "namespace", "mainEntrypoint", "serviceAccountName", "uid", "status"):
        keys.add("workflow." + name)
    params = named(get_list(get_map(spec, "arguments"), "parameters"))
    if params:
        keys.update(("workflow.parameters", "workflow.parameters.json"))
    for _, param in params:
        if get_str(param, "name"):
            keys.add("workflow.parameters." + param["name"])
    for field_name, kind in (("annotations", "annotations"), ("labels", "labels"), ("labelsFrom", "labels")):
        for source in metadata_sources:
            for key in get_map(source, field_name) or {}:
                keys.add(f"workflow.{kind}.{key}")
    for kind in ("annotations", "labels"):
        keys.update((f"workflow.{kind}", f"workflow.{kind}.json"))
    if spec.get("priority") is not None:
        keys.add("workflow.priority")
    for tmpl in out_templates:
        outputs = get_map(tmpl, "outputs")
        for kind, flag in (("parameters", "any_out_params"), ("artifacts", "any_out_arts")):
            for _, out in named(get_list(outputs, kind)):
                global_name = get_str(out, "globalName")
                if not global_name:
                    continue
                if is_param_tag(global_name):
                    setattr(g, flag, True)
                else:
                    keys.add(f"workflow.outputs.{kind}.{global_name}")
    return g


def local_keys(tmpl: dict[str, Any], kind: str | None) -> set[str]:
    """Keys a template adds for itself: its inputs, `pod.name`, retries (validate.go validateTemplate)."""
    keys: set[str] = set()
    inputs = get_map(tmpl, "inputs")
    params = named(get_list(inputs, "parameters"))
    for _, param in params:
        keys.add("inputs.parameters." + get_str(param, "name"))
    # The whole list as JSON is substituted in every template, declared parameters or not (Argo's
    # ProcessArgs; Hera's runner scripts write `source: '{{inputs.parameters}}'` with no inputs).
    keys.add("inputs.parameters")
    leaf = is_leaf(kind)
    for _, art in named(get_list(inputs, "artifacts")):
        name = get_str(art, "name")
        keys.add("inputs.artifacts." + name)
        if leaf:
            keys.add(f"inputs.artifacts.{name}.path")
    if kind in POD_TYPES:
        keys.add("pod.name")
    if tmpl.get("retryStrategy") is not None:
        keys.update(
            ("retries", "lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message")
        )
    return keys


@dataclass(slots=True)
class Producer:
    """A step or task whose outputs a tag may name."""

    name: str
    info: TemplateInfo | None  # None: its template is only known at runtime; anything under it passes
    aggregate: bool  # looped: outputs are aggregated lists
    order: int


def producer_fields(p: Producer, status: bool, aggregate: bool | None = None) -> Callable[[str], str | None]:
    """A checker of what follows `steps.<name>.` (None when it resolves, else the reason)."""
    agg = p.aggregate if aggregate is None else aggregate

    def check(rest: str) -> str | None:
        info = p.info
        if rest in NODE_FIELDS or info is None:
            return None
        if rest == "status":
            return None if status else "its status is only known to the steps and tasks that follow it"
        if rest == "ip":
            return None if info.daemon else f'template "{info.name}" is not a daemon'
        if rest in ("exitCode", "outputs.result"):
            if info.has_output or (agg and info.type in ("script", "containerSet")):
                return None
            return f'template "{info.name}" ({info.type or "unknown type"}) produces no {rest}'
        if rest == "outputs.parameters":
            return (
                None if agg else "outputs.parameters (the aggregate) is only set for looped steps and tasks"
            )
        if rest.startswith("outputs.parameters."):
            name = rest[len("outputs.parameters.") :]
            return (
                None
                if name in info.out_params
                else f'template "{info.name}" has no output parameter "{name}"'
            )
        if rest.startswith("outputs.artifacts."):
            name = rest[len("outputs.artifacts.") :]
            return (
                None if name in info.out_arts else f'template "{info.name}" has no output artifact "{name}"'
            )
        return "unknown field"

    return check


# What a step or task may name of a producer: a checker of the rest of the tag, or why it may name none.
Visible = Callable[[str], str | None] | str
Visibility = Callable[[str], Visible]


@dataclass(slots=True)
class Scope:
    """Everything a tag at one position may name."""

    globals: GlobalScope
    local: set[str]
    exit_handler: bool = False
    items: set[str] | None = None  # keys like "item.x"; None: no loop here
    any_item: bool = False
    kind: str | None = None  # "steps" | "tasks": the producer prefix of this template
    producers: dict[str, Producer] = field(default_factory=dict)
    # (name) -> checker of the rest of the tag, or a reason string when the producer is not visible
    visibility: Visibility | None = None
    outer: Scope | None = None  # the step scope around an inline template
    label: str = "this template"

    def for_producers(
        self,
        kind: str,
        producers: dict[str, Producer],
        visibility: Visibility,
        items: set[str] | None = None,
        any_item: bool = False,
    ) -> Scope:
        """This template's scope as one of its steps or tasks sees it (or, without a loop, its outputs)."""
        return Scope(
            self.globals,
            self.local,
            self.exit_handler,
            items,
            any_item,
            kind,
            producers,
            visibility,
            self.outer,
            self.label,
        )

    def check(self, tag: str) -> str | None:
        """None when `tag` resolves here, else why not ("" when there is nothing more to say)."""
        if not tag.startswith(CHECKED_PREFIXES) or tag.startswith(EXEMPT_PREFIXES):
            return None
        kind = self.kind
        if kind and tag.startswith(kind) and tag[len(kind) : len(kind) + 1] == ".":
            # A step's or task's output: never a local name (inputs., pod.name, retries, lastRetry.) nor a
            # global one (workflow.), so the producer alone decides.
            reason = self._producer(tag)
            if reason is None:
                return None
        elif tag in self.local or self.globals.resolves(tag, self.exit_handler):
            return None
        elif tag.startswith("item."):
            if self.any_item or (self.items is not None and tag in self.items):
                return None
            reason = (
                "the loop's items have no such key" if self.items is not None else "there is no loop here"
            )
        else:
            reason = _generic_reason(tag, self.label)
        if self.outer is not None and self.outer.check(tag) is None:
            return None
        return reason

    def _producer(self, tag: str) -> str | None:
        rest = tag[len(self.kind or "") + 1 :]
        name, _, tail = rest.partition(".")
        if name not in self.producers:
            noun = "step" if self.kind == "steps" else "task"
            return f'there is no {noun} named "{name}" in {self.label}'
        visible = self.visibility(name) if self.visibility else producer_fields(self.producers[name], True)
        if isinstance(visible, str):
            return visible
        return visible(tail)


def _generic_reason(tag: str, label: str) -> str:
    if tag.startswith("steps."):
        return "steps.* can only be used inside a steps template"
    if tag.startswith("tasks."):
        return "tasks.* can only be used inside a DAG template"
    if tag.startswith("inputs."):
        return f"{label} declares no such input"
    if tag.startswith("pod."):
        return "pod.name is only set in templates that run a pod"
    if tag.startswith("workflow.parameters."):
        return "the workflow has no such parameter in spec.arguments"
    if tag == "workflow.failures":
        return "workflow.failures is only set in the exit handler"
    if tag.startswith("workflow.outputs."):
        return "no template exports an output with that globalName"
    return ""


def unresolved_message(tag: str, reason: str) -> str:
    text = f"failed to resolve {{{{{tag}}}}}"
    return f"{text}: {reason}" if reason else text
