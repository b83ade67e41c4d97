"""AdmissionReview in and out (admission.k8s.io/v1).

`parse_review` turns the body the API server sends into an `AdmissionRequest`, or raises
`MalformedReview` with a reason that the server returns as HTTP 400. Nothing here looks at what the
object means; that is admission.py's job. The response builders produce the exact wire shape.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import msgspec

from webhook.json_pieces import TooDeep, decode_in_pieces

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
PIECES_FROM = 256 * 1024  # bodies bigger than this are decoded in pieces (webhook/json_pieces.py)
MAX_DEPTH = (
    100  # Kubernetes objects nest a few dozen levels at most; our walkers stay far from Python's limit
)


class MalformedReview(ValueError):
    """The body is not an AdmissionReview we can answer; str() is the reason sent back with HTTP 400."""


@dataclass(slots=True)
class AdmissionRequest:
    api_version: str
    uid: str
    group: str
    version: str
    kind: str
    operation: str
    namespace: str | None
    name: str | None
    object: Any
    old_object: Any
    user_info: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    sub_resource: str = ""
    content_size: int = 0  # bytes of the review as received

    @property
    def username(self) -> str:
        name = self.user_info.get("username")
        return name if isinstance(name, str) else ""


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedReview(f"{where} must be a {'non-empty ' if required else ''}string")
    return value


def _loads(text: str | bytes) -> Any:
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


_FAST = msgspec.json.Decoder().decode


def _decode(body: bytes, text: str) -> Any:
    """`_loads(text)`, by msgspec when it can: about twice as fast on a review (issue 15).

    Where msgspec decodes, its value is json's (the same types, floats correctly rounded, duplicate keys
    last-wins; tests/unit/test_webhook_review.py compares them). What it refuses that json accepts or
    reports otherwise (NaN, a lone surrogate, a number out of range, a BOM, deep nesting, any malformed
    text) is decoded again by json, whose value or error the answer then carries, as before.
    """
    try:
        return _FAST(body)
    except (msgspec.DecodeError, RecursionError):
        return _loads(text)


def _deeper_than(node: Any, budget: int) -> bool:
    """Whether `node` nests more than `budget` levels (`node` itself is the first), level by level: one
    list comprehension per level, no recursion (a third faster than a recursive walk on a review)."""
    level = [node]
    for _ in range(budget):
        level = [
            c
            for n in level
            for c in (n.values() if type(n) is dict else n)
            if type(c) is dict or type(c) is list
        ]
        if not level:
            return False
    return True


def parse_review(body: bytes) -> AdmissionRequest:
    """The request inside an AdmissionReview body; MalformedReview (one line) when it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedReview(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    try:
        # A big body in pieces, so that no one call holds the GIL long (it is read off the event loop, in
        # webhook/server.py, but the GIL is the loop's too).
        big = len(body) > PIECES_FROM
        doc = decode_in_pieces(body, _loads, max_depth=MAX_DEPTH) if big else _decode(body, text)
    except TooDeep:
        raise MalformedReview(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        if len(body) > PIECES_FROM:  # the position is in a piece, not in the body
            raise MalformedReview(f"body is not JSON: {exc.msg}") from None
        raise MalformedReview(f"body is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise MalformedReview("body is nested too deeply") from None
    except ValueError as exc:
        raise MalformedReview(f"body is not JSON: {exc}") from None
    if (
        isinstance(doc, dict)
        and body.count(b"{") + body.count(b"[") > MAX_DEPTH
        and _deeper_than(doc, MAX_DEPTH)
    ):
        raise MalformedReview(f"body is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(doc, dict):
        raise MalformedReview(f"body must be a JSON object (an AdmissionReview), not {type(doc).__name__}")
    api_version = doc.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise MalformedReview(f"apiVersion must be one of {', '.join(API_VERSIONS)}, not {api_version!r:.80}")
    if doc.get("kind") != "AdmissionReview":
        raise MalformedReview(f"kind must be AdmissionReview, not {doc.get('kind')!r:.80}")
    req = doc.get("request")
    if not isinstance(req, dict):
        raise MalformedReview("request must be an object")
    uid = _text(req.get("uid"), "request.uid", required=True)
    operation = req.get("operation")
    if operation not in OPERATIONS:
        raise MalformedReview(
            f"request.operation must be one of {', '.join(OPERATIONS)}, not {operation!r:.80}"
        )
    gvk = req.get("kind")
    if not isinstance(gvk, dict):
        raise MalformedReview("request.kind must be an object with group, version and kind")
    kind = _text(gvk.get("kind"), "request.kind.kind", required=True)
    group = _text(gvk.get("group"), "request.kind.group")
    version = _text(gvk.get("version"), "request.kind.version")
    obj, old = req.get("object"), req.get("oldObject")
    if operation in ("CREATE", "UPDATE") and not isinstance(obj, dict):
        raise MalformedReview(f"request.object must be an object for {operation}")
    if operation == "UPDATE" and not isinstance(old, dict):
        raise MalformedReview("request.oldObject must be an object for UPDATE")
    for value, where in ((obj, "request.object"), (old, "request.oldObject")):
        if value is not None and not isinstance(value, dict):
            raise MalformedReview(f"{where} must be an object or absent")
    user_info = req.get("userInfo")
    if user_info is None:
        user_info = {}
    if not isinstance(user_info, dict):
        raise MalformedReview("request.userInfo must be an object")
    dry_run = req.get("dryRun", False)
    if dry_run is None:
        dry_run = False
    if not isinstance(dry_run, bool):
        raise MalformedReview("request.dryRun must be a boolean")
    return AdmissionRequest(
        api_version=api_version,
        uid=uid,
        group=group,
        version=version,
        kind=kind,
        operation=operation,
        namespace=_text(req.get("namespace"), "request.namespace") or None,
        name=_text(req.get("name"), "request.name") or None,
        object=obj,
        old_object=old,
        user_info=user_info,
        dry_run=dry_run,
        sub_resource=_text(req.get("subResource"), "request.subResource"),
        content_size=len(body),
    )


@dataclass(slots=True)
class Verdict:
    """What admission decided, before it is put on the wire."""

    allowed: bool = True
    status: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    patch: list[dict[str, Any]] | None = None
    audit: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # for metrics and logs: invalid, policy, immutable, internal, timeout...
    violations: list[tuple[str, str]] = field(default_factory=list)  # (policy, action), for metrics


def review_response(req: AdmissionRequest, verdict: Verdict) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": req.uid, "allowed": verdict.allowed}
    if verdict.status is not None:
        response["status"] = verdict.status
    if verdict.warnings:
        response["warnings"] = verdict.warnings
    if verdict.patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(verdict.patch).encode()).decode()
    if verdict.audit:
        response["auditAnnotations"] = verdict.audit
    return {"apiVersion": req.api_version, "kind": "AdmissionReview", "response": response}
