"""withItems / withParam / withSequence: one step or task becomes N named copies (argo-anchor.md §1.2).

Expansion is lazy: names are cheap (`name(i:desc)`), rendering a copy with its `{{item}}` is not, so a
copy is rendered only when its node has to be created or driven. That keeps a step over a 10,000-item
fan-out proportional to the items that change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from workflow import names
from workflow.engine import subst
from workflow.engine.state import EngineError

LOOP_KEYS = ("withItems", "withParam", "withSequence")


def has_loop(step: dict[str, Any]) -> bool:
    return any(step.get(k) not in (None, "") for k in LOOP_KEYS)


def expand_sequence(seq: Any) -> list[str]:
    if not isinstance(seq, dict):
        raise EngineError("withSequence must be an object")

    def as_int(field: str) -> int:
        try:
            return int(str(seq[field]).strip())
        except ValueError:
            raise EngineError(f"withSequence.{field} must be an integer, got {seq[field]!r}") from None

    start = as_int("start") if seq.get("start") not in (None, "") else 0
    if seq.get("end") not in (None, ""):
        end = as_int("end")
    elif seq.get("count") not in (None, ""):
        count = as_int("count")
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise EngineError("neither end nor count was specified in withSequence")
    fmt = seq.get("format") or "%d"
    step = 1 if start <= end else -1
    out = []
    for i in range(start, end + step, step):
        try:
            out.append(fmt % i)
        except (TypeError, ValueError):
            raise EngineError(f"withSequence.format {fmt!r} cannot format {i}") from None
    return out


def items_of(step: dict[str, Any]) -> list[Any] | None:
    """The loop items of an already-substituted step or task, or None when it has no loop."""
    if step.get("withItems") not in (None, ""):
        items = step["withItems"]
        if not isinstance(items, list):
            raise EngineError("withItems must be a list")
        return items
    if step.get("withParam") not in (None, ""):
        raw = step["withParam"]
        if isinstance(raw, list):
            return raw
        try:
            items = json.loads(str(raw))
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise EngineError(f"withParam value could not be parsed as a JSON list: {str(raw).strip()}")
        return items
    if step.get("withSequence") is not None:
        return expand_sequence(step["withSequence"])
    return None


def item_scope(item: Any) -> dict[str, Any]:
    """Argo's processItem replacements: `item`, and `item.<key>` for maps."""
    scope: dict[str, Any] = {}
    if isinstance(item, dict):
        for key, value in item.items():
            scope[f"item.{key}"] = names.item_string(value)
        scope["item"] = json.dumps(item, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    elif isinstance(item, list):
        scope["item"] = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        for index, value in enumerate(item):
            scope[f"item.[{index}]"] = names.item_string(value)
    else:
        scope["item"] = names.item_string(item)
    scope["__item__"] = item  # the raw value, for expression tags
    return scope


Copy = tuple[str, Callable[[], dict[str, Any]]]


_NAMES: dict[tuple[str, str], list[str]] = {}
_NAMES_MAX = 64


def copy_names(name: str, items: list[Any]) -> list[str]:
    """`name(i:desc)` for every item; remembered, since a running loop is expanded on every step."""
    key = (name, json.dumps(items, sort_keys=True, default=str))
    found = _NAMES.get(key)
    if found is None:
        found = [names.item_node_name(name, index, item) for index, item in enumerate(items)]
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.pop(next(iter(_NAMES)))
        _NAMES[key] = found
    return found


def expand(step: dict[str, Any], items: list[Any]) -> list[Copy]:
    """(copy name, a function rendering the copy) for each item, in order."""
    base = {k: v for k, v in step.items() if k not in LOOP_KEYS}
    name = str(step.get("name") or "")
    out: list[Copy] = []
    for copy_name, item in zip(copy_names(name, items), items, strict=True):

        def render(item: Any = item, copy_name: str = copy_name) -> dict[str, Any]:
            rendered = subst.render(base, {}, item_scope(item))
            rendered["name"] = copy_name
            return rendered

        out.append((copy_name, render))
    return out
