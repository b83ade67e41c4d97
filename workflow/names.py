"""Deterministic names, exactly as Argo computes them (docs/architecture.md, contract 2).

Everything here is a pure function of strings:

* node names: the tree path of a node (`<wf>[0].hello`, `<dag>.task(1:b)`, `<node>.onExit`, ...);
* node IDs: `fnv-1a 32` over the UTF-8 node name, printed as an unsigned decimal: `<wf>-<n>`; the root
  node's ID is the workflow name itself;
* display names: the node name without its boundary node's name and a leading `[i].` or `.`, unless the
  template's `workflows.argoproj.io/display-name` annotation says otherwise;
* pod names (v1 = node ID, v2 = `<wf>-<template>-<hash of node name>`), task-result names, agent pod;
* loop item descriptions (`generateNodeName`): what goes between `(i:` and `)` in an expanded node's name.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from workflow.types.base import go_json_number_text

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193
MAX_POD_NAME_PREFIX = 242  # 253 (k8s name limit) - 10 (hash digits) - 1 (dash)
POD_NAME_V1, POD_NAME_V2 = "v1", "v2"
DISPLAY_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-.]{0,61}[a-zA-Z0-9]$")
_STEP_OR_DAG_SEPARATOR = re.compile(r"^(\[\d+\])?\.")


@lru_cache(maxsize=131072)
def fnv1a_32(text: str) -> int:
    """FNV-1a, 32 bits, over the UTF-8 bytes of `text` (Go's hash/fnv New32a). Memoised: names repeat."""
    h = FNV32_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV32_PRIME) & 0xFFFFFFFF
    return h


def node_id(workflow_name: str, node_name: str) -> str:
    """Argo's `Workflow.NodeID`: the workflow name for the root node, else `<wf>-<fnv32a(name)>`."""
    if node_name == workflow_name:
        return workflow_name
    return f"{workflow_name}-{fnv1a_32(node_name)}"


# --- node names (§2.4) -------------------------------------------------------------------------------


def step_group_name(steps_node_name: str, index: int) -> str:
    return f"{steps_node_name}[{index}]"


def step_node_name(step_group_node_name: str, step_name: str) -> str:
    return f"{step_group_node_name}.{step_name}"


def task_node_name(dag_node_name: str, task_name: str) -> str:
    return f"{dag_node_name}.{task_name}"


def retry_attempt_name(retry_node_name: str, attempt: int) -> str:
    return f"{retry_node_name}({attempt})"


def container_node_name(pod_node_name: str, container: str) -> str:
    return f"{pod_node_name}.{container}"


def on_exit_node_name(parent_name: str) -> str:
    """`<wf>.onExit` for the workflow's exit handler, `<node>.onExit` for a step's or a task's."""
    return f"{parent_name}.onExit"


def hook_node_name(parent_name: str, hook: str) -> str:
    """`<wf>.hooks.<h>` (workflow-level) or `<node>.hooks.<h>` (step or task)."""
    return f"{parent_name}.hooks.{hook}"


def item_node_name(name: str, index: int, item: Any) -> str:
    """The name of loop item `index` of a step or task named `name`: `name(index:desc)`."""
    return f"{name}({index}:{item_description(item)})"


def recover_index(node_name: str) -> int:
    """Argo's `RecoverIndexFromNodeName`: the number between the first `(` and the following `:`, or -1."""
    start = node_name.find("(")
    if start < 0:
        return -1
    end = node_name.find(":", start)
    if end < 0:
        return -1
    try:
        return int(node_name[start + 1 : end])
    except ValueError:
        return -1


_ATTEMPT = re.compile(r"\((\d+)\)$")


def recover_attempt(node_name: str) -> int:
    """The attempt number of a retry attempt's name (`<retry node>(n)`), or -1."""
    match = _ATTEMPT.search(node_name)
    return int(match.group(1)) if match else -1


# --- loop item descriptions ----------------------------------------------------------------------------


def _go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it: no spaces, map keys sorted, Go's number forms."""
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_go_json(str(k))}:{_go_json(value[k])}" for k in sorted(value, key=str)) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return go_json_number_text(value)
    return json.dumps(value, ensure_ascii=False)


def item_string(value: Any) -> str:
    """An item value as Argo's `Item.String()` prints it: strings bare, everything else as JSON.

    This is also what `{{item}}` becomes for a scalar item.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _go_json(value)


def _go_fmt(value: Any) -> str:
    """Go's `fmt.Sprint` of a list of items: `[a b c]`, each element by `Item.String()`."""
    if isinstance(value, list):
        return "[" + " ".join(item_string(v) for v in value) + "]"
    return item_string(value)


def item_description(item: Any) -> str:
    """What `generateNodeName` puts after `(i:`: the value; maps as sorted `k:v,...`; lists in Go fmt form.

    Parentheses are removed so that the index can be recovered from the name.
    """
    if isinstance(item, dict):
        desc = ",".join(sorted(f"{k}:{item_string(v)}" for k, v in item.items()))
    elif isinstance(item, list):
        desc = _go_fmt(item)
    else:
        desc = item_string(item)
    return desc.replace("(", "").replace(")", "")


# --- display names (§2.3) ------------------------------------------------------------------------------


def display_name(node_name: str, boundary_name: str | None, override: str | None = None) -> str:
    """The node name with the boundary node's name stripped, then a leading `[i].` or `.` removed.

    Without a boundary (the root, workflow-level onExit and hooks) it is the full name. `override` is the
    template's display-name annotation, which wins when present.
    """
    if override:
        return override
    if boundary_name is None:
        return node_name
    shown = node_name[len(boundary_name) :] if node_name.startswith(boundary_name) else node_name
    return _STEP_OR_DAG_SEPARATOR.sub("", shown, count=1)


def valid_display_name(name: str) -> bool:
    return bool(DISPLAY_NAME_RE.match(name))


# --- pod and object names (§2.6) -----------------------------------------------------------------------


def pod_name(
    workflow_name: str, node_name: str, template_name: str | None, version: str = POD_NAME_V2
) -> str:
    """The pod of a node. v1: the node ID. v2: `<wf>-<template>-<fnv32a(node name)>` (prefix ≤ 242 chars).

    `template_name` is the resolved template's name (for a templateRef: `templateRef.template`), empty for
    inline templates. A node named like the workflow gets the workflow's name.
    """
    if version == POD_NAME_V1:
        return node_id(workflow_name, node_name)
    if node_name == workflow_name:
        return workflow_name
    prefix = f"{workflow_name}-{template_name}" if template_name else workflow_name
    return f"{prefix[:MAX_POD_NAME_PREFIX]}-{fnv1a_32(node_name)}"


def pod_node_name_of_container(container_node_name: str) -> str:
    """A containerSet Container node maps to its Pod node by dropping the last `.<container>`."""
    return container_node_name.rsplit(".", 1)[0]


def task_result_name(workflow_name: str, node_name: str) -> str:
    """The WorkflowTaskResult of a node is named exactly its node ID."""
    return node_id(workflow_name, node_name)


def agent_pod_name(workflow_name: str) -> str:
    return f"{node_id(workflow_name, 'agent')}-agent"


def pvc_name(workflow_name: str, claim_name: str) -> str:
    return f"{workflow_name}-{claim_name}"
