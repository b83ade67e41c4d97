"""The admission decisions: /validate and /mutate as plain functions of a parsed request.

Synchronous and free of I/O: the server runs them in a worker thread under a deadline, and the
benchmark and `sluice policy test` call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhook.check_cache import CheckCache
from webhook.defaults import CREATOR_LABELS, WorkflowDefaults, defaulted, patch_between
from webhook.policy.engine import Expanded, Outcome, PolicySet, request_variable
from webhook.policy.model import GROUP as POLICY_GROUP
from webhook.policy.model import KIND as POLICY_KIND
from webhook.review import AdmissionRequest, Verdict
from webhook.status import error_status, invalid_status, warning_lines
from webhook.stoppable import shielded
from webhook.update import is_running, is_stop_only, running_update_problems
from workflow.check import ARGO_KINDS, CheckOptions, CheckReport, TemplateSource, check_object
from workflow.errors import Problem
from workflow.types import ARGO_GROUP

log = logging.getLogger("sluice.webhook")

Checker = Callable[[Any, TemplateSource, CheckOptions], CheckReport]


@dataclass(slots=True)
class DefaultsHolder:
    """The current workflow defaults; replaced as a whole when the ConfigMap or file changes."""

    current: WorkflowDefaults = field(default_factory=WorkflowDefaults)


@dataclass(slots=True)
class Admission:
    source: TemplateSource
    policies: PolicySet
    defaults: DefaultsHolder = field(default_factory=DefaultsHolder)
    checker: Checker = check_object
    options: CheckOptions = field(default_factory=lambda: CheckOptions(missing_reference_is_warning=True))
    cache: CheckCache | None = None  # reports by object content and template-store generation

    # ---- /validate -------------------------------------------------------------------------------

    def validate(self, req: AdmissionRequest) -> Verdict:
        if req.operation not in ("CREATE", "UPDATE"):
            return Verdict(reason="not-checked")
        if req.group == POLICY_GROUP and req.kind == POLICY_KIND:
            return self._validate_policy(req)
        if req.group != ARGO_GROUP or req.kind not in ARGO_KINDS:
            return Verdict(reason="not-checked")
        obj, old = req.object, req.old_object
        if req.operation == "UPDATE":
            meta = obj.get("metadata")
            if isinstance(meta, dict) and meta.get("deletionTimestamp"):
                return Verdict(reason="deleting")  # never block finalizer removal
            changed = creator_label_changes(old, obj)
            if changed:
                return self._deny(req, changed, "immutable")
            if req.kind == "Workflow" and is_running(old):
                problems = running_update_problems(old, obj)
                if problems:
                    return self._deny(req, problems, "immutable")
                if is_stop_only(old, obj):
                    return Verdict(reason="running-stop")  # stopping is never refused, even by a new policy
                # Then checked in full like any UPDATE (issue 13 item 6: `shutdown: Nonsense` or a policy
                # capping activeDeadlineSeconds were let through on a running workflow).
            if obj.get("spec") == old.get("spec"):
                return Verdict(reason="metadata-only")  # admitted before; labels and finalizers may move
        return self._check(req)

    def _check(self, req: AdmissionRequest) -> Verdict:
        obj = req.object
        meta = obj.get("metadata")
        if req.namespace and isinstance(meta, dict) and not meta.get("namespace"):
            # The API server sets it; other callers may not. References resolve in this namespace.
            obj = {**obj, "metadata": {**meta, "namespace": req.namespace}}
        try:
            report, expanded = self._report(obj)
        except Exception:
            log.exception("the check failed on %s %s/%s (uid %s)", req.kind, req.namespace, req.name, req.uid)
            return _internal(req)
        warnings: list[Problem] = list(report.warnings)
        denials: list[Problem] = list(report.errors)
        audit: dict[str, str] = {}
        outcome = Outcome()
        if expanded is not None or not report.errors:
            with shielded():  # a policy worker's conversation is not cut halfway; it has its own time limit
                outcome = self.evaluate_policies(req, report, expanded)
            denials += outcome.denials
            warnings += outcome.warnings
            audit = outcome.audit_annotations
        violations = [(v.policy, v.action) for v in outcome.violations]
        if denials:
            verdict = self._deny(req, denials, "invalid" if report.errors else "policy")
            verdict.warnings = warning_lines(warnings)
            verdict.audit = audit
            verdict.violations = violations
            return verdict
        return Verdict(warnings=warning_lines(warnings), audit=audit, reason="allowed", violations=violations)

    def _report(self, obj: dict[str, Any]) -> tuple[CheckReport, Expanded]:
        """The core's report, and its expanded object (or, from the cache, a function decoding it)."""
        generation = getattr(self.source, "generation", None)
        if self.cache is None or generation is None:
            report = self.checker(obj, self.source, self.options)
            return report, report.expanded
        key = self.cache.key(obj, generation)
        kept = self.cache.get(key)
        if kept is None:
            report = self.checker(obj, self.source, self.options)
            self.cache.put(key, report)
            return report, report.expanded
        return kept.report(), kept.expanded_source()

    def evaluate_policies(
        self, req: AdmissionRequest, report: CheckReport, expanded: Expanded = None
    ) -> Outcome:
        """`expanded`: the report's expanded object when not in it (a function giving it, from the cache)."""
        if not len(self.policies):
            return Outcome()
        request = request_variable(
            operation=req.operation,
            kind=req.kind,
            namespace=req.namespace,
            name=req.name or _object_name(req.object),
            user_info=req.user_info,
            dry_run=req.dry_run,
        )
        return self.policies.evaluate(
            kind=req.kind,
            operation=req.operation,
            namespace=req.namespace,
            obj=req.object,
            expanded=report.expanded if expanded is None else expanded,
            containers=report.containers,
            request=request,
        )

    def _validate_policy(self, req: AdmissionRequest) -> Verdict:
        from webhook.policy.model import parse_policy

        _, problems = parse_policy(req.object, self.policies.cel)
        if problems:
            return self._deny(req, problems, "invalid-policy")
        return Verdict(reason="allowed")

    @staticmethod
    def _deny(req: AdmissionRequest, problems: list[Problem], reason: str) -> Verdict:
        name = req.name or _object_name(req.object)
        status = invalid_status(problems, group=req.group, kind=req.kind, name=name)
        return Verdict(allowed=False, status=status, reason=reason)

    # ---- /mutate ---------------------------------------------------------------------------------

    def mutate(self, req: AdmissionRequest) -> Verdict:
        if req.operation != "CREATE" or req.group != ARGO_GROUP or req.kind not in ARGO_KINDS:
            return Verdict(reason="not-mutated")
        try:
            changed = defaulted(
                req.object,
                kind=req.kind,
                namespace=req.namespace,
                user_info=req.user_info,
                defaults=self.defaults.current,
                source=self.source,
            )
            patch = patch_between(req.object, changed)
        except Exception:
            log.exception(
                "defaulting failed on %s %s/%s (uid %s)", req.kind, req.namespace, req.name, req.uid
            )
            return _internal(req)
        return Verdict(patch=patch or None, reason="patched" if patch else "unchanged")


def creator_label_changes(old: Any, new: Any) -> list[Problem]:
    """The creator labels were set at creation from the user (webhook/defaults.py): they may not change."""

    def labels(obj: Any) -> dict[str, Any]:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        found = meta.get("labels") if isinstance(meta, dict) else None
        return found if isinstance(found, dict) else {}

    before, after = labels(old), labels(new)
    return [
        Problem(
            f"metadata.labels[{key}]", "is set from the user who created the object and may not be changed"
        )
        for key in CREATOR_LABELS
        if before.get(key) != after.get(key)
    ]


def _object_name(obj: Any) -> str | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return None
    name = meta.get("name") or meta.get("generateName")
    return name if isinstance(name, str) else None


def _internal(req: AdmissionRequest) -> Verdict:
    message = (
        f"sluice could not check this {req.kind}: internal error (request {req.uid}); see the webhook's log"
    )
    return Verdict(
        allowed=False, status=error_status(message, code=500, reason="InternalError"), reason="error"
    )
