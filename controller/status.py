"""Status size management: `status.nodes` goes into `compressedNodes`
(gzip, then base64, as Argo writes it) before the Workflow nears etcd's object limit; readers hydrate.

`pack(workflow)` returns the object to write: unchanged while its JSON is under `threshold`, with
nodes compressed above it, and `TooLarge` when even compressed it is over `limit`, so the caller fails
the workflow with a clear message instead of writing something the API server refuses (and retrying
it for ever). `refused_for_size` recognises the API server's own refusals, the second line of defence
(controller/reconciler.py).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from typing import Any

MAX_WORKFLOW_SIZE = 1024 * 1024  # Argo's MAX_WORKFLOW_SIZE (the environment variable may set it)


class TooLarge(Exception):
    pass


def limit_from_env(env: Mapping[str, str]) -> int:
    """`MAX_WORKFLOW_SIZE` in bytes, as Argo's controller reads it; the default without it."""
    text = (env.get("MAX_WORKFLOW_SIZE") or "").strip()
    if not text:
        return MAX_WORKFLOW_SIZE
    if not text.isdigit() or int(text) < 1024:
        raise ValueError(f"MAX_WORKFLOW_SIZE: {text!r} is not a size in bytes of at least 1024")
    return int(text)


def refused_for_size(status: int, message: str) -> bool:
    """The API server's answers to an object too big to store: 413 over its request limit (3 MiB),
    500 "etcdserver: request is too large" over etcd's (1.5 MiB by default), both measured here."""
    return status == 413 or (status == 500 and "request is too large" in message)


def size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj, separators=(",", ":")))


def compress_nodes(nodes: dict[str, Any]) -> str:
    raw = json.dumps(nodes, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode()


def decompress_nodes(text: str) -> dict[str, Any]:
    nodes = json.loads(gzip.decompress(base64.b64decode(text)))
    if not isinstance(nodes, dict):
        raise ValueError("compressedNodes does not hold a node map")
    return nodes


def hydrate(workflow: dict[str, Any]) -> dict[str, Any]:
    """The workflow with `status.nodes` readable (a copy of status when it was compressed)."""
    status = workflow.get("status")
    if not isinstance(status, dict) or not status.get("compressedNodes"):
        return workflow
    status = dict(status)
    status["nodes"] = decompress_nodes(status.pop("compressedNodes"))
    return {**workflow, "status": status}


def pack(
    workflow: dict[str, Any], threshold: int | None = None, limit: int = MAX_WORKFLOW_SIZE
) -> dict[str, Any]:
    status = workflow.get("status")
    if not isinstance(status, dict):
        return workflow
    if threshold is None:  # 768 KiB at the default: the next step's growth must not cross the limit unseen
        threshold = limit * 3 // 4
    total = size(workflow)
    if total < threshold:
        return workflow
    if not status.get("nodes"):
        # Nothing to compress: the stored templates or the spec alone make it this big.
        if total > limit:
            raise TooLarge(f"workflow is longer than maximum allowed size. size {total} > maxSize {limit}")
        return workflow
    packed_status = {k: v for k, v in status.items() if k != "nodes"}
    packed_status["compressedNodes"] = compress_nodes(status["nodes"])
    packed = {**workflow, "status": packed_status}
    packed_size = size(packed)
    if packed_size > limit:
        raise TooLarge(
            f"workflow is longer than maximum allowed size. compressed size {packed_size} > maxSize {limit}"
        )
    return packed
