"""webhook/json_pieces.py: decoding in pieces gives what one json.loads gives, calls `loads` only on
pieces of about the piece size, and refuses what json.loads refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.json_pieces import TooDeep, decode_in_pieces
from webhook.review import MalformedReview, parse_review

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=5), children, max_size=8)
    ),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(min_value=1, max_value=64), st.booleans())
def test_the_same_value_as_one_json_loads(value, piece, spaced):
    text = json.dumps(value, indent=1 if spaced else None).encode()
    assert decode_in_pieces(b"  \n" + text, json.loads, piece=piece) == json.loads(text)


def test_loads_is_called_on_pieces_only():
    body = json.dumps(
        {"a": {"items": [{"n": i, "s": "x" * (i % 50)} for i in range(20_000)]}, "b": 1}
    ).encode()
    sizes: list[int] = []

    def loads(data: bytes):
        sizes.append(len(data))
        return json.loads(data)

    assert decode_in_pieces(body, loads, piece=4096) == json.loads(body)
    # Every call is about one piece (a batch ends past the piece size by at most one small member).
    assert len(sizes) > 100 and max(sizes) < 2 * 4096


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": [1, 2,',
        b'{"a": NaN}',
        b"[1, 2] x",
        b'{"a": "\\ud800"}',
        b'{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, }',
    ],
)
def test_what_is_not_json_is_refused(body):
    with pytest.raises(ValueError):
        decode_in_pieces(body, json.loads, piece=4)


def test_big_members_nested_past_the_limit_are_refused():
    deep = b"[" * 50 + b"1" * 100 + b"]" * 50
    with pytest.raises(TooDeep):
        decode_in_pieces(deep, json.loads, piece=8, max_depth=20)
    assert decode_in_pieces(deep, json.loads, piece=8, max_depth=60) == json.loads(deep)


def _review(obj) -> bytes:
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u1",
                "kind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Workflow"},
                "operation": "CREATE",
                "object": obj,
            },
        }
    ).encode()


def test_a_big_review_is_parsed_the_same_and_its_numbers_checked_the_same():
    obj = {"metadata": {"name": "big"}, "spec": {"items": [{"a": i, "f": i / 3} for i in range(40_000)]}}
    body = _review(obj)
    assert len(body) > 1024 * 1024
    assert parse_review(body).object == obj
    with pytest.raises(MalformedReview, match="out of range"):
        parse_review(body.replace(b'"a": 7,', b'"a": 1e999,', 1))
    with pytest.raises(MalformedReview, match="not JSON"):
        parse_review(body.replace(b'"a": 7,', b'"a": NaN,', 1))
    with pytest.raises(MalformedReview, match="not JSON"):
        parse_review(body[:-10])
