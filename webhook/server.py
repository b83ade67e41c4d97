"""The aiohttp application: routes, body limit, per-request deadline, metrics and request logs.

The admission work is CPU-bound and synchronous (admission.py); it runs in a small thread pool so
that health probes and metrics stay answered while a big workflow is checked, and it is given a
deadline shorter than the webhook configuration's timeoutSeconds, so a slow check is answered with
a clear denial instead of the API server's generic timeout.

HTTP status codes: 200 for every well-formed review (allowed or not), 400 for a body that is not an
AdmissionReview (with the reason), 413 over the size limit, 405/404 from routing. Never 5xx for a
client's input: a failure inside the check is a denial with code 500 in the review's Status.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kube import health
from kube.health import Readiness, add_health_routes
from webhook.admission import Admission
from webhook.limits import Limits
from webhook.metrics import Metrics
from webhook.review import AdmissionRequest, MalformedReview, Verdict, parse_review, review_response
from webhook.status import error_status
from webhook.stoppable import StoppableCall, Stopped
from workflow.check import ARGO_KINDS

log = logging.getLogger("sluice.webhook")

KNOWN_KINDS = frozenset({*ARGO_KINDS, "WorkflowPolicy"})
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # an UPDATE carries object and oldObject, each up to etcd's 1.5 MiB
DEFAULT_DEADLINE = 4.0  # seconds; below the 5 s timeoutSeconds of manifests/webhook


@dataclass(slots=True)
class Settings:
    deadline: float = DEFAULT_DEADLINE
    max_body: int = DEFAULT_MAX_BODY
    workers: int = 2
    # Policy rules run in this many worker processes, each stopped (killed) past policy_timeout or
    # over policy_memory bytes of address space; 0: in the request's thread (webhook/policy/worker.py).
    # The cost budget: at most policy_max_values JSON values in the variables the rules read.
    policy_workers: int = 2
    policy_timeout: float = 3.0
    policy_memory: int = 768 * 1024 * 1024
    policy_input_budget: int = 16 * 1024 * 1024
    policy_max_values: int = 200_000
    body_timeout: float = 10.0  # seconds to receive a request's body (a slow sender gets 408)
    limits: Limits = field(default_factory=Limits)  # connections: cap, handshake and first-request deadlines


ADMISSION = web.AppKey("admission", Admission)
METRICS = web.AppKey("metrics", Metrics)
SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", concurrent.futures.ThreadPoolExecutor)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(), status=status, content_type="application/json"
    )


def _bad_request(reason: str, status: int = 400) -> web.Response:
    return _json(error_status(reason, code=status, reason="BadRequest"), status=status)


class _Job:
    """Parse then decide, in a pool thread; past the deadline the decision is stopped or never begun."""

    __slots__ = ("body", "decide", "req", "call")

    def __init__(self, body: bytes, decide: Callable[[AdmissionRequest], Verdict]) -> None:
        self.body, self.decide = body, decide
        self.req: AdmissionRequest | None = None
        self.call = StoppableCall()

    def run(self) -> Verdict | None:
        self.req = parse_review(self.body)  # MalformedReview: HTTP 400
        self.body = b""
        try:
            return self.call.run(self.decide, self.req)
        except Stopped:
            return None

    def expire(self) -> None:
        self.call.stop()


def _malformed(metrics: Metrics, endpoint: str, exc: MalformedReview) -> web.Response:
    metrics.requests.inc(endpoint=endpoint, kind="", operation="", result="malformed")
    log.info("malformed review", extra={"endpoint": endpoint, "reason": str(exc)})
    return _bad_request(f"malformed AdmissionReview: {exc}")


def _internal_error(req: AdmissionRequest | None, endpoint: str) -> Verdict:
    log.exception("admission failed", extra={"uid": req.uid if req else "", "endpoint": endpoint})
    kind, uid = (req.kind, req.uid) if req else ("object", "")
    message = f"sluice could not check this {kind}: internal error (request {uid})"
    return Verdict(
        allowed=False, status=error_status(message, code=500, reason="InternalError"), reason="error"
    )


async def _review(
    request: web.Request, endpoint: str, decide: Callable[[AdmissionRequest], Verdict]
) -> web.Response:
    app = request.app
    metrics, settings = app[METRICS], app[SETTINGS]
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.body_timeout):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.requests.inc(endpoint=endpoint, kind="", operation="", result="malformed")
        return _bad_request(f"request body is over the {settings.max_body:,}-byte limit", status=413)
    except TimeoutError:
        metrics.requests.inc(endpoint=endpoint, kind="", operation="", result="malformed")
        return _bad_request(f"request body not received within {settings.body_timeout:g}s", status=408)
    job = _Job(body, decide)
    future = asyncio.get_running_loop().run_in_executor(app[POOL], job.run)
    try:
        # Parsing runs in the thread too: a 3 MiB review's JSON held the event loop for 0.3-0.7 s.
        verdict = await asyncio.wait_for(asyncio.shield(future), settings.deadline)
    except TimeoutError:
        job.expire()  # the check stops at its next bytecode (webhook/stoppable.py): the thread is free again
        verdict = None
    except MalformedReview as exc:
        return _malformed(metrics, endpoint, exc)
    except Exception:  # a bug of ours must not turn a well-formed review into an HTTP 500
        verdict = _internal_error(job.req, endpoint)
    if verdict is None:
        if job.req is None:  # still parsing at the deadline (linear in the body, bounded by its size)
            try:
                await future
            except MalformedReview as exc:
                return _malformed(metrics, endpoint, exc)
            except Exception:
                pass
        if job.req is not None:
            message = f"sluice could not check this {job.req.kind} within {settings.deadline:g}s (request {job.req.uid})"
            verdict = Verdict(
                allowed=False, status=error_status(message, code=504, reason="Timeout"), reason="timeout"
            )
    req = job.req
    if req is None or verdict is None:  # reading the review failed on a bug of ours: no uid to answer with
        return _bad_request("malformed AdmissionReview: could not be read")
    elapsed = time.perf_counter() - started
    result = (
        "allowed" if verdict.allowed else ("error" if verdict.reason in ("error", "timeout") else "denied")
    )
    kind = req.kind if req.kind in KNOWN_KINDS else "other"  # label values from a closed set
    metrics.requests.inc(endpoint=endpoint, kind=kind, operation=req.operation, result=result)
    metrics.latency.observe(elapsed, endpoint=endpoint)
    if not verdict.allowed:
        metrics.denials.inc(kind=kind, reason=verdict.reason)
    for policy, action in verdict.violations:
        metrics.policy_results.inc(policy=policy, action=action, dry_run=str(req.dry_run).lower())
    log.info(
        "admission",
        extra={
            "endpoint": endpoint,
            "uid": req.uid,
            "kind": req.kind,
            "namespace": req.namespace or "",
            "object": req.name or "",
            "operation": req.operation,
            "user": req.username,
            "dry_run": req.dry_run,
            "allowed": verdict.allowed,
            "reason": verdict.reason,
            "ms": round(elapsed * 1000, 2),
        },
    )
    return _json(review_response(req, verdict))


async def validate(request: web.Request) -> web.Response:
    return await _review(request, "validate", request.app[ADMISSION].validate)


async def mutate(request: web.Request) -> web.Response:
    return await _review(request, "mutate", request.app[ADMISSION].mutate)


def build_app(
    admission: Admission,
    *,
    settings: Settings | None = None,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    settings = settings or Settings()
    app = web.Application(client_max_size=settings.max_body)
    app[ADMISSION] = admission
    app[SETTINGS] = settings
    app[METRICS] = Metrics() if metrics is None else metrics
    add_health_routes(app, app[METRICS].render, Readiness() if readiness is None else readiness)
    app.add_routes([web.post("/validate", validate), web.post("/mutate", mutate)])
    app.cleanup_ctx.append(_pool(settings.workers))
    return app


def build_health_app(metrics: Metrics, readiness: Readiness) -> web.Application:
    """/healthz, /readyz and /metrics over plain HTTP on their own port (kube/health.py)."""
    return health.build_health_app(metrics.render, readiness)


def _pool(workers: int):
    async def ctx(app: web.Application):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="admission")
        app[POOL] = pool
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    return ctx
