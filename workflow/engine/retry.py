"""retryStrategy: whether and when a Retry node starts its next attempt.

Attempts are children `<name>(0)`, `<name>(1)`, ...; the Retry node ends with its last attempt's phase
(and outputs on success). Policies: Always, OnFailure (default), OnError, OnTransientError; an
`expression` alone means Always. `limit` counts retries (attempts = limit + 1; absent = unlimited).
Backoff waits `duration * factor^(n-1)` after the last attempt finished, capped by `cap`, and gives up
once `maxDuration` from the first attempt's start would be passed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from workflow import names
from workflow.engine import clock, subst
from workflow.engine.defs import ERROR, FAILED, PENDING, RUNNING, SUCCEEDED, EngineError, fulfilled

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine

CONTINUE, STOP = "continue", "stop"
# util/errors IsTransientErr: messages Kubernetes and networks give for errors worth retrying.
TRANSIENT = re.compile(
    r"(connection reset by peer|connection refused|i/o timeout|TLS handshake timeout|"
    r"net/http: request canceled|too many requests|the object has been modified|etcdserver: leader changed|"
    r"transport is closing|unexpected EOF|http2: server sent GOAWAY|no such host|ServiceUnavailable|"
    r"exceeded quota|pod deleted)",
    re.IGNORECASE,
)


def _policy(strategy: dict[str, Any]) -> str:
    policy = strategy.get("retryPolicy")
    if policy:
        return str(policy)
    return "Always" if strategy.get("expression") else "OnFailure"


def _retry_allowed(eng: Engine, policy: str, last: dict[str, Any]) -> bool:
    phase = last.get("phase")
    if policy == "Always":
        return phase in (FAILED, ERROR)
    if policy == "OnError":
        return phase == ERROR
    if policy == "OnTransientError":
        message = last.get("message") or ""
        extra = eng.op.config.transient_error_pattern
        return phase in (FAILED, ERROR) and bool(
            TRANSIENT.search(message) or (extra and re.search(extra, message))
        )
    return phase == FAILED  # OnFailure


def last_retry_scope(last: dict[str, Any] | None) -> dict[str, str]:
    if last is None:
        return {}
    exit_code = ((last.get("outputs") or {}).get("exitCode")) or "-1"
    started = clock.parse_stamp(last.get("startedAt"))
    finished = clock.parse_stamp(last.get("finishedAt"))
    duration = clock.seconds_between(started, finished) if started and finished else 0
    return {
        "lastRetry.exitCode": str(exit_code),
        "lastRetry.status": last.get("phase") or "",
        "lastRetry.duration": str(int(duration)),
        "lastRetry.message": last.get("message") or "",
    }


def attempt_scope(eng: Engine, index: int, last: dict[str, Any] | None) -> dict[str, Any]:
    scope: dict[str, Any] = {"retries": str(index)}
    scope.update(last_retry_scope(last))
    return scope


def attempt_template(eng: Engine, tmpl: dict[str, Any], attempt: dict[str, Any], kind: str) -> dict[str, Any]:
    """The template of an attempt already started (re-rendered with its own `retries` and pod name)."""
    op = eng.op
    index = names.recover_attempt(attempt["name"])
    parent = op.nodes.by(attempt["name"][: attempt["name"].rfind("(")])
    attempts = op.nodes.attempts(parent) if parent else []
    previous = attempts[index - 1] if 0 < index <= len(attempts) else None
    local = attempt_scope(eng, index, previous)
    local["pod.name"] = names.pod_name(op.name, attempt["name"], tmpl.get("name"), op.config.pod_name_version)
    return subst.render_dict(tmpl, {}, local)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def process(eng: Engine, node: dict[str, Any], strategy: dict[str, Any], tmpl: dict[str, Any]) -> str:
    """Argo's processNodeRetries for the Retry node `node`: CONTINUE (run/start an attempt) or STOP."""
    op = eng.op
    attempts = op.nodes.attempts(node)
    if not attempts:
        return CONTINUE
    last = attempts[-1]
    if last.get("daemoned") and last.get("phase") in (PENDING, RUNNING):
        # A daemon's attempt is up: the Retry node serves as it does (daemoned, its phase), so the steps or
        # DAG go on and the daemon is stopped with its scope (Argo's processNodeRetries).
        if not node.get("daemoned"):
            op.nodes.update(node["id"], daemoned=True)
            op.nodes.daemons.add(node["id"])
        op.nodes.mark(node["id"], last["phase"])
        return STOP
    if node.get("daemoned"):  # the daemon's attempt ended: retried, or the Retry node ends with it
        op.nodes.update(node["id"], daemoned=None)
        op.nodes.daemons.discard(node["id"])
    if not fulfilled(last):
        return CONTINUE
    if last.get("phase") not in (FAILED, ERROR):
        op.nodes.update(node["id"], outputs=last.get("outputs"))
        op.nodes.mark(node["id"], SUCCEEDED if last.get("phase") == SUCCEEDED else last.get("phase"), "")
        return STOP
    phase = last["phase"]
    if eng.stop_message:
        op.nodes.mark(node["id"], phase, last.get("message") or eng.stop_message)
        return STOP
    if not _retry_allowed(eng, _policy(strategy), last):
        op.nodes.mark(node["id"], phase, last.get("message") or "")
        return STOP
    if strategy.get("expression"):
        scope = last_retry_scope(last)
        try:
            keep = subst.evaluate_bool(str(strategy["expression"]), op.globals, scope)
        except EngineError as exc:
            op.nodes.mark(node["id"], ERROR, str(exc))
            return STOP
        if not keep:
            op.nodes.mark(node["id"], phase, "retryStrategy.expression evaluated to false")
            return STOP
    limit = _int(strategy.get("limit"))
    if strategy.get("limit") is not None and limit is not None and len(attempts) > limit:
        op.nodes.mark(node["id"], phase, "No more retries left")
        return STOP
    backoff = strategy.get("backoff")
    if isinstance(backoff, dict) and backoff.get("duration") is not None:
        base = clock.parse_duration(backoff.get("duration"))
        if base is None:
            op.nodes.mark(
                node["id"], ERROR, f"invalid retryStrategy.backoff.duration: {backoff.get('duration')}"
            )
            return STOP
        wait = base
        factor = _int(backoff.get("factor"))
        if factor is not None and factor > 0:
            wait = base * factor ** (len(attempts) - 1)
        cap = clock.parse_duration(backoff.get("cap")) if backoff.get("cap") is not None else None
        if cap is not None and cap > 0:
            wait = min(wait, cap)
        finished = clock.parse_stamp(last.get("finishedAt")) or op.now
        ready_at = clock.add_seconds(finished, wait)
        max_duration = (
            clock.parse_duration(backoff.get("maxDuration")) if backoff.get("maxDuration") else None
        )
        if max_duration is not None:
            first_start = clock.parse_stamp(attempts[0].get("startedAt")) or op.now
            deadline = clock.add_seconds(first_start, max_duration)
            if ready_at > deadline or op.now > deadline:
                op.nodes.mark(node["id"], phase, "Max duration limit exceeded")
                return STOP
        if op.now < ready_at:
            op.nodes.mark(node["id"], None, f"Backoff for {clock.go_duration_text(wait)}")
            op.wake(ready_at)
            return STOP
        if node.get("message"):
            op.nodes.mark(node["id"], None, "")
    return CONTINUE
