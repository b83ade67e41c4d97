"""The core's check of a workflow before it first runs, in the controller (controller/reconciler.py).

A workflow the core finds invalid (checked with the config's workflowDefaults under it) fails with the
messages admission gives: the webhook may have been off. A version that passed is remembered by uid and
resourceVersion, so a spec edited since is checked again, and the engine's first step is told
(`Observed.checked`) instead of running the same check a second time (workflow/engine/operate.py
`_validate`; ~1.5 ms each).
"""

from __future__ import annotations

from typing import Any

from workflow.check import CheckCaches, CheckOptions, check_object
from workflow.engine import TemplateSource
from workflow.merge import with_workflow_defaults


def _version(wf: dict[str, Any]) -> tuple[str, str]:
    meta = wf.get("metadata") or {}
    return str(meta.get("uid") or ""), str(meta.get("resourceVersion") or "")


class SpecChecks:
    def __init__(self) -> None:
        self._passed: dict[str, tuple[str, str]] = {}  # key -> (uid, resourceVersion) that passed
        # Referenced templates parsed and validated once per resourceVersion, not once per workflow.
        self.caches = CheckCaches.create()

    def problems(
        self, key: str, wf: dict[str, Any], defaults: dict[str, Any] | None, templates: TemplateSource
    ) -> str | None:
        """The check's errors as one text, or None: it passed, or the workflow has started (Argo checks
        once, before the first step)."""
        if self.passed(key, wf) or (wf.get("status") or {}).get("phase"):
            return None
        report = check_object(with_workflow_defaults(wf, defaults), templates, CheckOptions(), self.caches)
        if report.ok:
            self._passed[key] = _version(wf)
            return None
        return "; ".join(str(p) for p in report.errors)

    def passed(self, key: str, wf: dict[str, Any]) -> bool:
        """Whether this very object (uid and resourceVersion) passed the check."""
        return self._passed.get(key) == _version(wf)

    def forget(self, key: str) -> None:
        self._passed.pop(key, None)
