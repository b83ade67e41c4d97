"""The load stage: untrusted text turned into plain documents, with bounds on time and memory.

Used by `sluice lint`, `sluice run` and the webhook before anything else looks at the data. A document
that is too big, too deep, or an alias bomb is refused with one clear line, never a traceback:
- size: Kubernetes refuses requests over 3 MiB, so nothing real comes near MAX_BYTES;
- depth: libyaml stops at its own nesting limit, and our walkers must not hit Python's recursion limit;
- aliases: PyYAML shares aliased objects, so a "billion laughs" document loads in microseconds but
  explodes when anything walks it; we measure the expanded size without expanding it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from workflow.positions import node_positions

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_VALUES = 1_000_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentError(ValueError):
    """Input that cannot be turned into documents; the message is one line, ready for a person."""


@dataclass(slots=True)
class Document:
    data: Any
    index: int  # position in a multi-document stream, from 0
    line: int  # 1-based line where the document starts (1 for JSON)
    # Field path -> (line, column), when asked for (`marks=True`): workflow/positions.py.
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(slots=True)
class Loaded:
    documents: list[Document] = field(default_factory=list)
    error: str | None = None


def load_documents(raw: bytes | str, *, json_only: bool = False, marks: bool = False) -> Loaded:
    """Every non-empty document in `raw` (YAML, multi-document, or JSON), or one error line. `marks`:
    record where each field is written (YAML only), for `file:line:col` in messages."""
    try:
        text = _decode(raw)
        docs = _parse_json(text) if json_only else _parse_yaml(text, marks)
        for doc in docs:
            check_shape(doc.data)
        return Loaded(documents=docs)
    except DocumentError as exc:
        return Loaded(error=str(exc))


def check_shape(data: Any) -> None:
    """Refuse data nested deeper than MAX_DEPTH or expanding to more than MAX_EXPANDED_VALUES values.

    Iterative, and each shared (aliased) container is measured once, so a bomb costs what its text costs.
    """
    sizes: dict[int, int] = {}
    unique = 0
    # (value, depth, children_done)
    stack: list[tuple[Any, int, bool]] = [(data, 1, False)]
    while stack:
        value, depth, done = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        key = id(value)
        if done:
            children = value.values() if isinstance(value, dict) else value
            total = 1
            for c in children:
                total += sizes.get(id(c), 1) if isinstance(c, (dict, list)) else 1
            sizes[key] = total
            if total > MAX_EXPANDED_VALUES:
                raise DocumentError(
                    f"document expands to more than {MAX_EXPANDED_VALUES:,} values"
                    + (" through YAML aliases (an alias bomb?)" if total > 4 * max(unique, 1) else "")
                )
            continue
        if key in sizes:
            continue
        if depth > MAX_DEPTH:
            raise DocumentError(f"document is nested deeper than {MAX_DEPTH} levels")
        unique += 1
        stack.append((value, depth, True))
        children = value.values() if isinstance(value, dict) else value
        for c in children:
            if isinstance(c, (dict, list)) and id(c) not in sizes:
                stack.append((c, depth + 1, False))


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        text = raw
    else:
        if len(raw) > MAX_BYTES:
            raise DocumentError(f"input is {len(raw):,} bytes, over the {MAX_BYTES:,}-byte limit")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    if len(text) > MAX_BYTES:
        raise DocumentError(f"input is {len(text):,} characters, over the {MAX_BYTES:,} limit")
    if "\x00" in text:
        raise DocumentError(f"not a text file (NUL byte at offset {text.index(chr(0))})")
    return text


def _parse_json(text: str) -> list[Document]:
    try:
        return [Document(json.loads(text), 0, 1)]
    except json.JSONDecodeError as exc:
        raise DocumentError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise DocumentError(f"document is nested deeper than {MAX_DEPTH} levels") from None


def _parse_yaml(text: str, marks: bool = False) -> list[Document]:
    docs: list[Document] = []
    loader = _Loader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said there is one
            data = loader.construct_document(node)
            if data is not None:
                start = node.start_mark
                docs.append(
                    Document(
                        data, index, (start.line + 1) if start else 1, node_positions(node) if marks else {}
                    )
                )
            index += 1
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(_yaml_error(text, exc)) from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise DocumentError(f"document is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, TypeError) as exc:  # constructor failures, e.g. an unhashable mapping key
        raise DocumentError(f"invalid YAML: {' '.join(str(exc).split())}") from None
    except Exception as exc:  # libyaml's binding has failed on pathological input with its own bugs
        raise DocumentError(f"invalid YAML: the parser gave up ({type(exc).__name__})") from None
    finally:
        loader.dispose()
    return docs


def _yaml_error(text: str, exc: yaml.MarkedYAMLError) -> str:
    """One line: where, what, and PyYAML's context (what it was parsing, from where). A tab where a
    token should start is named: libyaml's "cannot start any token" does not say it is a tab."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = (exc.problem or exc.context or "malformed").strip()
    lines = text.splitlines()
    if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        problem = "a tab character: YAML indents with spaces, never tabs"
    context, at = (exc.context or "").strip(), exc.context_mark
    if exc.problem and context and at and (not mark or (at.line, at.column) != (mark.line, mark.column)):
        problem += f" ({context} at line {at.line + 1}, column {at.column + 1})"
    return f"invalid YAML{where}: {problem}"


_SYNTAX_AT = re.compile(r"^invalid (YAML|JSON) at line (\d+), column (\d+): (.*)$", re.S)


def syntax_place(error: str) -> tuple[int, int, str] | None:
    """(line, column, message without them) of a syntax error from `load_documents`, so a command can
    lead with `file:LINE:COL:` as compilers do; None for other errors."""
    at = _SYNTAX_AT.match(error)
    return (int(at.group(2)), int(at.group(3)), f"invalid {at.group(1)}: {at.group(4)}") if at else None
