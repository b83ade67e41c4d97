"""What may change when a Workflow that is already running is updated.

Argo's own operations on a running workflow patch only a few spec fields: `suspend` (suspend/resume),
`shutdown` (stop/terminate) and `activeDeadlineSeconds` (the old terminate, and extending a deadline).
Metadata (labels, annotations, finalizers, owner references) may always change: tools and the
controller write them. Status is the controller's (a subresource in Sluice, contract 3) and is not
looked at here. Any other spec change would make the running workflow disagree with its own spec.
"""

from __future__ import annotations

from typing import Any

from workflow.errors import Problem

MUTABLE_SPEC_FIELDS = frozenset({"suspend", "shutdown", "activeDeadlineSeconds"})
RUNNING_PHASES = frozenset({"Pending", "Running"})


def is_running(old: dict[str, Any]) -> bool:
    status = old.get("status")
    phase = status.get("phase") if isinstance(status, dict) else None
    return isinstance(phase, str) and phase in RUNNING_PHASES


def running_update_problems(old: dict[str, Any], new: dict[str, Any]) -> list[Problem]:
    """One problem per spec field that changed and may not change while the workflow runs."""
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    new_spec = new.get("spec")
    if not isinstance(new_spec, dict):
        return [Problem("spec", "may not be removed or replaced while the workflow is running")]
    allowed = ", ".join(sorted(MUTABLE_SPEC_FIELDS))
    problems = []
    for key in sorted(set(old_spec) | set(new_spec)):
        if key in MUTABLE_SPEC_FIELDS:
            continue
        if old_spec.get(key) != new_spec.get(key):
            problems.append(
                Problem(f"spec.{key}", f"may not change while the workflow is running (only {allowed} may)")
            )
    return problems


def is_stop_only(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The update only sets spec.shutdown to Stop or Terminate (what `argo stop` / `terminate` send)."""
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    new_spec = new.get("spec")
    if not isinstance(new_spec, dict) or new_spec.get("shutdown") not in ("Stop", "Terminate"):
        return False
    changed = {k for k in set(old_spec) | set(new_spec) if old_spec.get(k) != new_spec.get(k)}
    return changed == {"shutdown"}
