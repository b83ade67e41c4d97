"""Decoding a big JSON body in pieces, so that no single C call holds the GIL for long (issue 13).

`json.loads` of a 3 MiB review (300,000 small objects) is one C call of 0.3-0.6 s that holds the GIL:
even in a worker thread it stalls the event loop, and /healthz with it (671 ms measured). Here msgspec
only scans the structure (keeping each member as a `msgspec.Raw` span of the input, no values built),
and the members are decoded by the caller's `loads` in batches of about `piece` bytes; members bigger
than that are split the same way, level by level. Between two calls the interpreter may switch
threads. The result equals `loads(data)`, with `loads`'s own rules for numbers and constants applied to
every member; what msgspec's scan refuses (malformed JSON, a lone UTF-16 surrogate) raises ValueError.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from typing import Any

import msgspec

PIECE = 64 * 1024
_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_VALUE_START = re.compile(rb"[^ \t\r\n]")


class TooDeep(ValueError):
    """The structure nests big members deeper than the caller's limit."""


def decode_in_pieces(
    data: bytes | msgspec.Raw, loads: Callable[[bytes], Any], *, piece: int = PIECE, max_depth: int = 100
) -> Any:
    view = memoryview(data)
    if len(view) <= piece:
        return loads(bytes(view))
    if max_depth <= 0:
        raise TooDeep(f"nested deeper than {max_depth} levels")
    first = _first_byte(view)
    try:
        if first == ord("{"):
            members = _MEMBERS.decode(view)
            return {
                key: decode_in_pieces(raw, loads, piece=piece, max_depth=max_depth - 1)
                for key, raw in members.items()
            }
        if first == ord("["):
            return _items(_ITEMS.decode(view), loads, piece, max_depth)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    return loads(bytes(view))  # one scalar (a long string): one call, linear in its size


def _items(raws: list[msgspec.Raw], loads: Callable[[bytes], Any], piece: int, max_depth: int) -> list[Any]:
    lengths = list(map(len, raws))
    if lengths and max(lengths) <= piece:
        # The common case (many small members): batch boundaries found by bisection on the running byte
        # count, without a Python step per member.
        ends = list(itertools.accumulate(lengths))
        out: list[Any] = []
        start = 0
        while start < len(raws):
            before = ends[start] - lengths[start]
            stop = max(start + 1, bisect.bisect_right(ends, before + piece, lo=start))
            out += _batch(raws[start:stop], loads)
            start = stop
        return out
    out = []
    batch: list[msgspec.Raw] = []
    size = 0
    for raw, length in zip(raws, lengths, strict=True):
        if length > piece:
            out += _batch(batch, loads)
            batch, size = [], 0
            out.append(decode_in_pieces(raw, loads, piece=piece, max_depth=max_depth - 1))
            continue
        batch.append(raw)
        size += length + 1
        if size >= piece:
            out += _batch(batch, loads)
            batch, size = [], 0
    out += _batch(batch, loads)
    return out


def _batch(batch: list[msgspec.Raw], loads: Callable[[bytes], Any]) -> list[Any]:
    if not batch:
        return []
    return loads(b"[" + b",".join(batch) + b"]")


def _first_byte(view: memoryview) -> int:
    found = _VALUE_START.search(view)  # past JSON's whitespace, however long
    return found.group()[0] if found else 0
