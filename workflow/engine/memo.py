"""Memoization as a decision on an observed cache.

A template with `memoize{key, maxAge, cache.configMap.name}` first looks its key up in the observed
cache: a fresh entry makes the node Succeeded at once with the cached outputs (no pod). Otherwise the
template runs and, once it succeeds, a SaveCache action stores `{nodeID, outputs, creationTimestamp,
lastHitTimestamp}` under the key.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.engine import clock
from workflow.engine.defs import SUCCEEDED, EngineError
from workflow.engine.model import SaveCache
from workflow.engine.state import Operation

KEY = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")


def _settings(tmpl: dict[str, Any]) -> tuple[str, str, str]:
    memoize = tmpl["memoize"]
    key = str(memoize.get("key") or "")
    cache_name = str((((memoize.get("cache") or {}).get("configMap")) or {}).get("name") or "")
    return key, cache_name, str(memoize.get("maxAge") or "")


def lookup(op: Operation, tmpl: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(cached outputs on a hit else None, the node's memoizationStatus)."""
    key, cache_name, max_age = _settings(tmpl)
    if not KEY.match(key):
        raise EngineError(f"invalid cache key: {key}")
    max_age_s = None
    if max_age:
        max_age_s = clock.parse_duration(max_age)
        if max_age_s is None:
            raise EngineError(f"invalid maxAge: {max_age}")
    status = {"hit": False, "key": key, "cacheName": cache_name}
    entry = (op.observed.cache.get(cache_name) or {}).get(key)
    if entry is None or entry.outputs is None:
        return None, status
    if max_age_s is not None:
        created = clock.parse_stamp(entry.creation_timestamp)
        if created is None or clock.seconds_between(created, op.now) > max_age_s:
            return None, status
    status["hit"] = True
    return entry.outputs, status


def save_succeeded(op: Operation) -> None:
    """A SaveCache for each memoized node that became Succeeded in this step (a miss that ran), with the
    outputs it ended the step with. Called once per step by operate.py, after the tree was executed."""
    for change in op.nodes.transitions:
        if change.phase == SUCCEEDED:
            node = op.nodes.get(change.node_id)
            if node is not None:
                _save(op, node)


def _save(op: Operation, node: dict[str, Any]) -> None:
    status = node.get("memoizationStatus") or {}
    if status.get("hit") or not status.get("key") or node.get("phase") != SUCCEEDED:
        return
    entry = {
        "nodeID": node["id"],
        "outputs": node.get("outputs") or {},
        "creationTimestamp": op.now_s,
        "lastHitTimestamp": op.now_s,
    }
    op.act(
        SaveCache(
            namespace=op.namespace, config_map=status.get("cacheName") or "", key=status["key"], entry=entry
        )
    )
