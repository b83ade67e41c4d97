"""AdmissionReview parsing and response shapes; Status and warning shaping; metrics exposition."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.metrics import Metrics
from webhook.review import MalformedReview, Verdict, parse_review, review_response
from webhook.status import MAX_CAUSES, invalid_status, warning_lines
from workflow.errors import Problem


def body(**request):
    base = {
        "uid": "u",
        "kind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Workflow"},
        "operation": "CREATE",
        "object": {},
    }
    base.update(request)
    return json.dumps(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": base}
    ).encode()


def test_parse_a_full_request():
    req = parse_review(
        body(namespace="ns", name="n", dryRun=True, userInfo={"username": "u1"}, subResource="")
    )
    assert (req.uid, req.group, req.kind, req.operation, req.namespace, req.name) == (
        "u",
        "argoproj.io",
        "Workflow",
        "CREATE",
        "ns",
        "n",
    )
    assert req.dry_run is True and req.username == "u1"


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"uid": ""}, "request.uid"),
        ({"uid": 5}, "request.uid"),
        ({"operation": "PATCH"}, "request.operation"),
        ({"kind": "Workflow"}, "request.kind must be an object"),
        ({"kind": {"group": "g"}}, "request.kind.kind"),
        ({"object": None}, "request.object"),
        ({"operation": "UPDATE"}, "request.oldObject"),
        ({"userInfo": []}, "request.userInfo"),
        ({"dryRun": "yes"}, "request.dryRun"),
        ({"namespace": 3}, "request.namespace"),
    ],
)
def test_malformed_requests_name_the_field(request_fields, reason):
    with pytest.raises(MalformedReview, match=reason.replace(".", r"\.")):
        parse_review(body(**request_fields))


def test_delete_needs_no_object():
    req = parse_review(body(operation="DELETE", object=None, oldObject={"metadata": {}}))
    assert req.object is None


def test_response_shape_with_patch_warnings_and_audit():
    req = parse_review(body())
    verdict = Verdict(warnings=["w"], patch=[{"op": "add", "path": "/a", "value": 1}], audit={"k": "v"})
    out = review_response(req, verdict)
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    r = out["response"]
    assert (r["uid"], r["allowed"], r["warnings"], r["patchType"], r["auditAnnotations"]) == (
        "u",
        True,
        ["w"],
        "JSONPatch",
        {"k": "v"},
    )
    assert json.loads(base64.b64decode(r["patch"])) == [{"op": "add", "path": "/a", "value": 1}]


def test_invalid_status_is_bounded_but_counts_everything():
    problems = [Problem(f"spec.templates[{i}]", "bad") for i in range(MAX_CAUSES + 5)]
    st = invalid_status(problems, group="argoproj.io", kind="Workflow", name="w")
    assert len(st["details"]["causes"]) == MAX_CAUSES + 1
    assert st["details"]["causes"][-1]["message"] == "5 more problems not shown"
    assert f"({MAX_CAUSES + 5} problems)" in st["message"] and "and 485 more" in st["message"]


def test_warning_lines_are_one_line_and_bounded():
    lines = warning_lines([Problem("f", "a\nb" + "x" * 1000)] + [Problem("g", "w")] * 60)
    assert lines[0].startswith("f: a b") and len(lines[0]) == 500 and lines[0].endswith("...")
    assert len(lines) == 51 and lines[-1] == "and 11 more warnings"


def test_metrics_exposition():
    m = Metrics()
    m.requests.inc(endpoint="validate", kind="Workflow", operation="CREATE", result="allowed")
    m.requests.inc(endpoint="validate", kind="Workflow", operation="CREATE", result="allowed")
    m.latency.observe(0.003, endpoint="validate")
    m.latency.observe(20.0, endpoint="validate")
    text = m.render()
    assert (
        'sluice_webhook_requests_total{endpoint="validate",kind="Workflow",operation="CREATE",result="allowed"} 2'
        in text
    )
    assert 'sluice_webhook_request_duration_seconds_bucket{endpoint="validate",le="0.0025"} 0' in text
    assert 'sluice_webhook_request_duration_seconds_bucket{endpoint="validate",le="0.005"} 1' in text
    assert 'sluice_webhook_request_duration_seconds_bucket{endpoint="validate",le="10"} 1' in text
    assert 'sluice_webhook_request_duration_seconds_bucket{endpoint="validate",le="+Inf"} 2' in text
    assert 'sluice_webhook_request_duration_seconds_count{endpoint="validate"} 2' in text
    assert "# TYPE sluice_webhook_request_duration_seconds histogram" in text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e999}', "out of range"),
        (b'{"a": ' + b"[" * 101 + b"]" * 101 + b"}", "nested deeper than 100 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_numbers_json_cannot_carry_and_deep_nesting_are_malformed(raw, reason):
    with pytest.raises(MalformedReview, match=reason):
        parse_review(raw)


def test_nesting_up_to_the_limit_is_fine():
    obj = {"deep": 1}
    for _ in range(90):
        obj = {"d": obj}
    req = parse_review(body(object=obj))
    assert req.object["d"]["d"]


def test_the_check_cache_key_is_the_object_alone():
    """Issue 13 item 9: the key was the body with every occurrence of the uid string removed, so two
    different objects (one holding the uid as a value) could share a key."""
    from webhook.check_cache import CheckCache

    def key(uid, obj, namespace="a"):
        req = parse_review(body(uid=uid, object=obj, namespace=namespace))
        return CheckCache.key(req.object, 1)

    assert key("u-1", {"spec": {"x": 1}}) == key("u-2", {"spec": {"x": 1}})  # the uid does not count
    assert key("u-3", {"spec": {"x": "u-3"}}) != key("u-4", {"spec": {"x": ""}})
    assert key("u-5", {"spec": {"x": 1}}) != key("u-5", {"spec": {"x": 2}})
    assert CheckCache.key({"spec": {}}, 1) != CheckCache.key(
        {"spec": {}}, 2
    )  # the template generation counts


# ---- issue 15: the review decoded by msgspec, json deciding what msgspec refuses ---------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=40,
)


def _same(a, b) -> bool:
    """Equal, with the same types and key order at every level (-0.0 told from 0.0); without recursion,
    so values nested thousands deep compare too."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if x.hex() != y.hex():
                return False
        elif x != y:
            return False
    return True


def _decoded(raw: bytes):
    """('ok', value) or ('error', message): what parse's decoding step gives."""
    from webhook.review import _decode, _loads

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ("skip", None)
    results = []
    for decode in (lambda: _decode(raw, text), lambda: _loads(text)):
        try:
            results.append(("ok", decode()))
        except (ValueError, RecursionError) as exc:
            results.append(("error", f"{type(exc).__name__}: {exc}"))
    return results


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_JSON, st.booleans(), st.booleans())
def test_msgspec_decodes_a_review_as_json_does(value, spaced, ascii_only):
    raw = json.dumps(value, indent=1 if spaced else None, ensure_ascii=ascii_only).encode()
    (kind, fast), (_, slow) = _decoded(raw)
    assert kind == "ok" and _same(fast, slow)


_NUMBER = st.from_regex(r"\A-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?\Z")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_NUMBER)
def test_numbers_decode_to_the_same_value(number):
    """Correctly rounded floats, big integers, exponents near the range's ends: the same, or the same
    error (json's, whose message the answer carries)."""
    fast, slow = _decoded(f'{{"n": {number}}}'.encode())
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]) if fast[0] == "ok" else fast[1] == slow[1]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": NaN}',
        b'{"a": 1e999}',
        b'{"a": "\\ud800"}',
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": 1,}',
        b'{"a": 01}',
        b'{"a": "\x01"}',
        b'{"a": 1} x',
        b'{"a": ' + b"1" * 5000 + b"}",
        b'{"a": 1, "a": 2}',
        b"[" * 2000 + b"]" * 2000,
        b"",
        b"  ",
    ],
)
def test_what_msgspec_refuses_json_decides(raw):
    fast, slow = _decoded(raw)
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]) if fast[0] == "ok" else fast[1] == slow[1]


def _deeper_recursive(node, budget: int) -> bool:
    """The depth bound as it was written before issue 15 (a recursive walk)."""
    if budget == 0:
        return True
    for child in node.values() if type(node) is dict else node:
        if type(child) in (dict, list) and _deeper_recursive(child, budget - 1):
            return True
    return False


@settings(max_examples=100, deadline=None, derandomize=True)
@given(_JSON.filter(lambda v: isinstance(v, (dict, list))), st.integers(min_value=0, max_value=8))
def test_the_depth_bound_by_levels_is_the_recursive_one(value, budget):
    from webhook.review import _deeper_than

    assert _deeper_than(value, budget) is _deeper_recursive(value, budget)


@pytest.mark.parametrize("depth", [99, 100, 101, 102])
def test_the_depth_bound_at_its_edge(depth):
    obj: dict = {}
    for _ in range(depth - 4):  # the review, request and object hold it: four levels
        obj = {"d": [obj]} if len(json.dumps(obj)) % 2 else {"d": obj}
    raw = body(object=obj)
    levels = _deeper_recursive(json.loads(raw), 100)
    if levels:
        with pytest.raises(MalformedReview, match="nested deeper than 100 levels"):
            parse_review(raw)
    else:
        assert parse_review(raw).object == obj
