"""`status.compressedNodes`: the nodes map as base64 of gzip'ed JSON.

Pure: zlib does the gzip framing (no clock: the header's mtime is 0, so encoding is deterministic).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import msgspec

from workflow.errors import Problem

_GZIP = 31  # zlib wbits for a gzip container
_AUTO = 47  # zlib wbits that accept gzip or zlib framing


def decode_compressed_nodes_json(text: str) -> tuple[Any, Problem | None]:
    """The raw JSON value held by `compressedNodes`, or a problem saying why it cannot be read."""
    path = "status.compressedNodes"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        return None, Problem(path, f"not valid base64: {exc}")
    try:
        data = zlib.decompress(raw, _AUTO)
    except zlib.error as exc:
        # v4.1 may also write zstd/brotli; those are not read here.
        return None, Problem(path, f"not gzip data (zstd and brotli are not supported): {exc}")
    try:
        return msgspec.json.decode(data), None
    except msgspec.DecodeError as exc:
        return None, Problem(path, f"not valid JSON: {exc}")


def encode_compressed_nodes(nodes: dict[str, Any]) -> str:
    """Compress a JSON-ready nodes map (e.g. `to_dict(status)["nodes"]`) into `compressedNodes` text."""
    packer = zlib.compressobj(9, zlib.DEFLATED, _GZIP)
    data = packer.compress(msgspec.json.encode(nodes)) + packer.flush()
    return base64.b64encode(data).decode("ascii")
