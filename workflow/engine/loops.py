"""withItems / withParam / withSequence: one step or task becomes N named copies.

Expansion is lazy: names are cheap (`name(i:desc)`), rendering a copy with its `{{item}}` is not, so a
copy is rendered only when its node has to be created or driven. That keeps a step over a 10,000-item
fan-out proportional to the items that change.
"""

from __future__ import annotations

import json
from typing import Any

from workflow import names
from workflow.engine import subst
from workflow.engine.defs import EngineError

LOOP_KEYS = ("withItems", "withParam", "withSequence")
# The most copies one loop may make. Each is a node in the status; far below this the workflow is over
# etcd's object size anyway. A withSequence of count 1,000,000,000 grew to 2.9 GB and died with a
# MemoryError traceback (issue 13 item 11); now it is this error on the node, checked before building.
MAX_LOOP_ITEMS = 100_000


def _too_many(what: str, count: int) -> EngineError:
    return EngineError(f"{what} would make {count:,} copies, over the limit of {MAX_LOOP_ITEMS:,}")


def has_loop(step: dict[str, Any]) -> bool:
    return any(step.get(k) not in (None, "") for k in LOOP_KEYS)


_SEQUENCES: dict[tuple[int, int, str], list[str]] = {}


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
    if abs(end - start) + 1 > MAX_LOOP_ITEMS:
        raise _too_many("withSequence", abs(end - start) + 1)
    fmt = seq.get("format") or "%d"
    cached = _SEQUENCES.get((start, end, fmt))
    if cached is not None:
        return cached
    step = 1 if start <= end else -1
    out = []
    for i in range(start, end + step, step):
        try:
            out.append(fmt % i)
        except (TypeError, ValueError):
            raise EngineError(f"withSequence.format {fmt!r} cannot format {i}") from None
    if len(_SEQUENCES) > 64:
        _SEQUENCES.clear()
    _SEQUENCES[(start, end, fmt)] = out  # callers only read it
    return out


def items_of(step: dict[str, Any]) -> list[Any] | None:
    """The loop items of an already-substituted step or task, or None when it has no loop."""
    if step.get("withItems") not in (None, ""):
        items = step["withItems"]
        if not isinstance(items, list):
            raise EngineError("withItems must be a list")
        if len(items) > MAX_LOOP_ITEMS:
            raise _too_many("withItems", len(items))
        return items
    if step.get("withParam") not in (None, ""):
        raw = step["withParam"]
        if isinstance(raw, list):
            if len(raw) > MAX_LOOP_ITEMS:
                raise _too_many("withParam", len(raw))
            return raw
        try:
            items = json.loads(str(raw))
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise EngineError(f"withParam value could not be parsed as a JSON list: {str(raw).strip()}")
        if len(items) > MAX_LOOP_ITEMS:
            raise _too_many("withParam", len(items))
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


_NAMES: dict[tuple[str, str], list[str]] = {}
_NAMES_MAX = 64


def _source_key(step: dict[str, Any], items: list[Any]) -> str:
    """What the items came from, cheaply: the sequence spec, the withParam text, or the items as JSON."""
    if step.get("withSequence") is not None and not step.get("withItems") and not step.get("withParam"):
        return "seq:" + json.dumps(step["withSequence"], sort_keys=True, default=str)
    param = step.get("withParam")
    if isinstance(param, str) and not step.get("withItems"):
        return "param:" + param
    return "items:" + json.dumps(items, sort_keys=True, default=str)


def copy_names(name: str, items: list[Any], source: str | None = None) -> list[str]:
    """`name(i:desc)` for every item; remembered, since a running loop is expanded on every step."""
    key = (name, source if source is not None else "items:" + json.dumps(items, sort_keys=True, default=str))
    found = _NAMES.get(key)
    if found is None:
        found = [names.item_node_name(name, index, item) for index, item in enumerate(items)]
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.pop(next(iter(_NAMES)))
        _NAMES[key] = found
    return found


class Expansion:
    """The copies of a looped step or task: `names[i]`, and `render(i)` for the copy itself."""

    __slots__ = ("base", "items", "names")

    def __init__(self, step: dict[str, Any], items: list[Any]):
        self.base = {k: v for k, v in step.items() if k not in LOOP_KEYS}
        self.items = items
        self.names = copy_names(str(step.get("name") or ""), items, _source_key(step, items))

    def render(self, index: int) -> dict[str, Any]:
        rendered = subst.render_dict(self.base, {}, item_scope(self.items[index]))
        rendered["name"] = self.names[index]
        return rendered


class Single:
    """A step or task without a loop, with the same face as an Expansion."""

    __slots__ = ("names", "step")

    def __init__(self, step: dict[str, Any]):
        self.step = step
        self.names = [str(step.get("name") or "")]

    def render(self, index: int) -> dict[str, Any]:
        return self.step


def expand(step: dict[str, Any], items: list[Any] | None) -> Expansion | Single:
    return Single(step) if items is None else Expansion(step, items)
