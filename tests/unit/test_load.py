"""Untrusted text into documents: every hostile input gets one clear line, in bounded time."""

from __future__ import annotations

import pytest

from workflow.load import MAX_BYTES, MAX_DEPTH, DocumentError, check_shape, load_documents


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _nested_block(depth: int) -> str:
    return "a:\n" + "".join("  " * i + "- \n" for i in range(1, depth))


HOSTILE = [
    ("not yaml", "a: b: c\n", "invalid YAML at line 1, column 5: mapping values are not allowed"),
    ("tab indentation", "a:\n\tb: 1\n", "invalid YAML at line 2, column 1"),
    ("unhashable key", "? [a]\n: 1\n", "invalid YAML at line 1"),
    ("alias bomb", _bomb(), "through YAML aliases (an alias bomb?)"),
    ("recursive alias", "a: &a [*a]\n", f"nested deeper than {MAX_DEPTH} levels"),
    ("1,000-deep flow nesting", "[" * 1000 + "]" * 1000, f"nested deeper than {MAX_DEPTH} levels"),
    ("1,000-deep block nesting", _nested_block(1000), "nesting depth"),
    ("binary garbage", bytes(range(256)) * 64, "not UTF-8 text (invalid byte at offset 128)"),
    (
        "PNG header",
        b"\x89PNG\r\n\x1a\n" + bytes(range(1, 32)) * 8,
        "not UTF-8 text (invalid byte at offset 0)",
    ),
    ("NUL bytes", "a: 1\n\x00\n", "not a text file (NUL byte at offset 5)"),
    ("20 MB file", b"a: " + b"x" * (20 * 1024 * 1024), f"over the {MAX_BYTES:,}-byte limit"),
]


@pytest.mark.parametrize("raw,fragment", [(r, f) for _, r, f in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_input_gets_one_clear_line(raw, fragment):
    loaded = load_documents(raw.encode() if isinstance(raw, str) else raw)
    assert loaded.documents == []
    assert fragment in loaded.error
    assert "\n" not in loaded.error and "Traceback" not in loaded.error


def test_multi_document_stream_skips_empty_documents_and_keeps_positions():
    loaded = load_documents("---\nkind: A\n---\n---\nkind: B\n")
    assert loaded.error is None
    assert [(d.data, d.index, d.line) for d in loaded.documents] == [
        ({"kind": "A"}, 0, 2),
        ({"kind": "B"}, 2, 5),
    ]


def test_json_is_parsed_as_json():
    loaded = load_documents(b'{"kind": "Workflow", "spec": {"a": [1, 2.5, true, null]}}', json_only=True)
    assert loaded.documents[0].data == {"kind": "Workflow", "spec": {"a": [1, 2.5, True, None]}}
    bad = load_documents(b'{"kind": ', json_only=True)
    assert bad.error.startswith("invalid JSON at line 1, column 10")


def test_shared_values_within_bounds_are_accepted():
    # Aliases themselves are legitimate YAML: a small reuse stays well under the bound.
    loaded = load_documents("x: &x {a: 1}\ny: [*x, *x, *x]\n")
    assert loaded.error is None
    assert loaded.documents[0].data["y"] == [{"a": 1}] * 3


def test_shape_check_measures_depth_exactly():
    value: list = []
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    check_shape(value)  # MAX_DEPTH levels: fine
    with pytest.raises(DocumentError):
        check_shape([value])
