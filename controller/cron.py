"""The CronWorkflow loop of the controller program: it runs each CronWorkflow's schedule and writes what
it did, as Argo's cron controller does (its decisions: controller/cron_plan.py, workflow/cron_schedule.py).

* An informer keeps the CronWorkflows (kube/informer.py, wired in controller/run.py); their children
  are the controller's own Workflow cache, indexed here by the `workflows.argoproj.io/cron-workflow`
  label, so a child's phase change or deletion wakes its CronWorkflow at once.
* A work queue (controller/queue.py) holds CronWorkflow keys. A reconcile plans at `now` (the injected
  clock), applies (terminate for Replace, create the child, delete beyond the history limits), writes
  the status, and queues the key again for the next schedule hit: the loop sleeps until then, it
  never polls.
* Status goes through the status subresource with the resourceVersion read (a stale cache is a 409:
  retried, so a finished child is never counted twice); CRDs without the subresource (the argo-crds
  overlay) get the whole object written instead.
* A creation that the API server refuses for good (the webhook's 422, a 403) is the SubmissionError
  condition, and that hit is over; anything else (timeouts, 5xx) is retried with backoff. A child that
  already exists is success: names are deterministic, `<cron>-<unix seconds of the hit>`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from controller.cron_plan import ARGO, SUBMISSION_ERROR, Plan, plan, reference, set_condition
from controller.queue import WorkQueue
from kube.informer import Store
from kube.metrics import Counter, render
from kube.rest import ApiError, Rest
from workflow.check import CheckOptions, TemplateSource, check_object
from workflow.labels import LABEL_CRON, LABEL_CRON_COMPLETED

log = logging.getLogger("sluice.controller.cron")

REFUSED = (400, 403, 404, 422)  # the API server will say the same again: SubmissionError
MAX_OPERATION_SECONDS = 30.0


def _child_index(obj: dict[str, Any]) -> str | None:
    meta = obj.get("metadata") or {}
    cron = (meta.get("labels") or {}).get(LABEL_CRON)
    return f"{meta.get('namespace') or ''}/{cron}" if cron else None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CronLoop:
    def __init__(
        self,
        rest: Rest,
        workflows: Store,
        templates: TemplateSource,
        *,
        now: Callable[[], datetime] = _utcnow,
        status_subresource: str = "auto",
    ) -> None:
        self.rest = rest
        self.workflows = workflows
        self.templates = templates
        self.now = now
        self.status_subresource = status_subresource  # "auto" | "on" | "off"
        self.crons = Store()
        self.queue = WorkQueue()
        self.cursors: dict[str, datetime] = {}  # CronWorkflow uid -> hits up to here are handled
        self._checked: dict[str, tuple[str, int]] = {}  # key -> (uid, generation) that passed the check
        self.triggered = Counter(
            "argo_workflows_cronworkflows_triggered_total", "CronWorkflow children created, by CronWorkflow."
        )
        self.policy_triggered = Counter(
            "argo_workflows_cronworkflows_concurrencypolicy_triggered",
            "Schedule hits a concurrencyPolicy acted on (Forbid skipped, Replace terminated).",
        )
        # The index must exist before the Workflow informer first lists (controller/run.py builds this
        # loop right after the Controller).
        workflows.indexers["cron"] = _child_index
        workflows.handlers.append(self._on_workflow)
        self.crons.handlers.append(self._on_cron)

    # --- events -----------------------------------------------------------------------------------

    def _on_cron(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace') or ''}/{meta.get('name')}"
        if kind == "DELETED":
            self.cursors.pop(meta.get("uid") or "", None)
            self._checked.pop(key, None)
            return
        self.queue.add(key)

    def _on_workflow(self, kind: str, obj: dict[str, Any]) -> None:
        key = _child_index(obj)
        if key is not None:
            self.queue.add(key)

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, workers: int = 2) -> None:
        """Reconcile every CronWorkflow, then whatever the events and wake-ups bring (until cancelled)."""
        for cron in self.crons:
            self._on_cron("ADDED", cron)
        await asyncio.gather(*(self._worker() for _ in range(workers)))

    async def _worker(self) -> None:
        while (key := await self.queue.get()) is not None:
            try:
                await asyncio.wait_for(self.reconcile(key), MAX_OPERATION_SECONDS)
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self.queue.retry(key)
                log.warning(
                    "cron workflow reconcile failed; retrying",
                    extra={"cronworkflow": key, "error": str(exc)[:300], "retry_seconds": round(delay, 3)},
                )
            finally:
                self.queue.done(key)

    def _spec_problems(self, key: str, cron: dict[str, Any]) -> str:
        """The core's check of the CronWorkflow (the webhook may have been off): the errors, or ""."""
        meta = cron.get("metadata") or {}
        seen = (meta.get("uid") or "", int(meta.get("generation") or 0))
        if self._checked.get(key) == seen:
            return ""
        report = check_object(cron, self.templates, CheckOptions())
        if not report.ok:  # not remembered: a template synced later may fix it
            return "; ".join(str(p) for p in report.errors)
        self._checked[key] = seen
        return ""

    async def reconcile(self, key: str) -> None:
        ns, name = key.split("/", 1)
        cron = self.crons.get(ns, name)
        if cron is None:
            return
        uid = (cron.get("metadata") or {}).get("uid") or ""
        now = self.now()
        p = plan(
            cron,
            self.workflows.by_index("cron", key),
            now,
            self.cursors.get(uid),
            self._spec_problems(key, cron),
        )
        await self._apply(cron, p)
        if p.cursor is not None:
            self.cursors[uid] = p.cursor
        if p.wake is not None:
            self.queue.add(key, after=max((p.wake - now).total_seconds(), 0.05))

    async def _apply(self, cron: dict[str, Any], p: Plan) -> None:
        meta = cron["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        key = f"{ns}/{name}"
        policy = (cron.get("spec") or {}).get("concurrencyPolicy") or "Allow"
        for child in p.terminate:
            await self._ignore_missing(
                self.rest.merge_patch(ARGO, "Workflow", ns, child, {"spec": {"shutdown": "Terminate"}})
            )
            log.info(
                "cron workflow replaced its running child", extra={"cronworkflow": key, "workflow": child}
            )
        if p.terminate:
            self.policy_triggered.inc(name=name, namespace=ns or "", concurrency_policy=policy)
        if p.skipped == "Forbid":
            self.policy_triggered.inc(name=name, namespace=ns or "", concurrency_policy=policy)
        status = p.status
        if p.create is not None:
            last = (cron.get("status") or {}).get("lastScheduledTime")
            status = await self._create(key, p.create, status, last)
        for child in p.delete:
            await self._ignore_missing(self.rest.delete(ARGO, "Workflow", ns, child))
            log.info(
                "cron workflow history limit: child deleted", extra={"cronworkflow": key, "workflow": child}
            )
        if p.skipped and p.skipped not in ("exists",):
            log.info("cron workflow schedule hit skipped", extra={"cronworkflow": key, "reason": p.skipped})
        if status != (cron.get("status") or {}):
            cron = await self._write_status(cron, status)
        if p.label_completed:
            patch = {"metadata": {"labels": {LABEL_CRON_COMPLETED: "true"}}}
            self._wrote(await self.rest.merge_patch(ARGO, "CronWorkflow", ns, name, patch))
            log.info("cron workflow stopped by its stopStrategy", extra={"cronworkflow": key})

    async def _create(
        self, key: str, child: dict[str, Any], status: dict[str, Any], last: str | None
    ) -> dict[str, Any]:
        """Create the child; the status to write says what happened (`last`: lastScheduledTime before)."""
        status = dict(status)
        child_name = child["metadata"]["name"]
        try:
            created = await self.rest.create(child)
        except ApiError as exc:
            if exc.status == 409 and exc.reason == "AlreadyExists":
                set_condition(status, SUBMISSION_ERROR, None)
                return status
            if exc.status not in REFUSED:
                raise
            causes = "; ".join(
                f"{c.get('field')}: {c.get('message')}" if c.get("field") else str(c.get("message"))
                for c in exc.causes
            )
            message = f"Failed to submit Workflow: {exc.message}" + (f" ({causes})" if causes else "")
            log.warning("cron workflow child refused", extra={"cronworkflow": key, "error": message[:300]})
            status["active"] = [r for r in status.get("active") or [] if r.get("name") != child_name]
            if last is None:  # nothing ran: lastScheduledTime stays the last run's
                status.pop("lastScheduledTime", None)
            else:
                status["lastScheduledTime"] = last
            set_condition(status, SUBMISSION_ERROR, message)
            return status
        status["active"] = [
            reference(created) if r.get("name") == child_name else r for r in status.get("active") or []
        ]
        set_condition(status, SUBMISSION_ERROR, None)
        ns, _, cron_name = key.partition("/")
        self.triggered.inc(name=cron_name, namespace=ns)
        log.info("cron workflow child created", extra={"cronworkflow": key, "workflow": child_name})
        return status

    async def _ignore_missing(self, call: Any) -> None:
        try:
            await call
        except ApiError as exc:
            if exc.status != 404:
                raise

    def _wrote(self, obj: dict[str, Any]) -> None:
        """Write-through: what the API server answered replaces the cached CronWorkflow at once."""
        meta = obj.get("metadata") or {}
        if meta.get("name"):
            self.crons.objects[(meta.get("namespace") or "", meta["name"])] = obj

    async def _write_status(self, cron: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        body = {**cron, "status": status}
        if self.status_subresource == "off":
            written = await self.rest.replace(body)
        elif self.status_subresource == "on":
            written = await self.rest.replace(body, subresource="status")
        else:  # auto: the subresource where the CRD has one, else the whole object (kube/rest.py)
            written = await self.rest.replace_status(body)
        self._wrote(written)
        return written

    def render_metrics(self) -> str:
        return render(self.triggered, self.policy_triggered)
