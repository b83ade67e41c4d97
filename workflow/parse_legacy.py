"""Argo v3 fields that v4.0 removed, accepted with a warning and converted to their v4 form.

`CronWorkflow.spec.schedule` joins `schedules`; `synchronization.semaphore` / `mutex` join
`semaphores` / `mutexes`; `podPriority` (workflow) and `priority` (template) are kept, with a warning.
Runs on the typed object after a successful decode; the messages are the walker's (LEGACY_FIELDS).
"""

from __future__ import annotations

from typing import Any

from workflow.errors import Problems, child
from workflow.parse_walk import LEGACY_FIELDS
from workflow.types import CronWorkflowSpec, Synchronization, Template, WorkflowSpec


def _join_list(obj: Any, single: str, plural: str, path: str, problems: Problems) -> None:
    """Move v3's singular `single` to the front of v4's list `plural` (unless already there), with a
    warning. The field names are both the attribute and the JSON names (one word each)."""
    value = getattr(obj, single)
    if value is None:
        return
    problems.warn(child(path, single), LEGACY_FIELDS[(type(obj).__name__, single)])
    items = list(getattr(obj, plural) or [])
    if value not in items:
        items.insert(0, value)
    setattr(obj, plural, items)
    setattr(obj, single, None)


def upgrade_cron_spec(spec: CronWorkflowSpec, path: str, problems: Problems) -> None:
    _join_list(spec, "schedule", "schedules", path, problems)
    if spec.workflow_spec is not None:
        upgrade_workflow_spec(spec.workflow_spec, child(path, "workflowSpec"), problems)


def upgrade_workflow_spec(spec: WorkflowSpec, path: str, problems: Problems) -> None:
    if spec.pod_priority is not None:
        problems.warn(child(path, "podPriority"), LEGACY_FIELDS[("WorkflowSpec", "podPriority")])
    if spec.synchronization is not None:
        upgrade_synchronization(spec.synchronization, child(path, "synchronization"), problems)
    for index, template in enumerate(spec.templates or ()):
        upgrade_template(template, child(child(path, "templates"), index), problems)
    if spec.template_defaults is not None:
        upgrade_template(spec.template_defaults, child(path, "templateDefaults"), problems)


def upgrade_template(template: Template, path: str, problems: Problems) -> None:
    if template.priority is not None:
        problems.warn(child(path, "priority"), LEGACY_FIELDS[("Template", "priority")])
    if template.synchronization is not None:
        upgrade_synchronization(template.synchronization, child(path, "synchronization"), problems)
    for g, group in enumerate(template.steps or ()):
        for s, step in enumerate(group):
            if step.inline is not None:
                inline_path = child(child(child(child(path, "steps"), g), s), "inline")
                upgrade_template(step.inline, inline_path, problems)
    if template.dag is not None:
        for t, task in enumerate(template.dag.tasks or ()):
            if task.inline is not None:
                inline_path = child(child(child(child(path, "dag"), "tasks"), t), "inline")
                upgrade_template(task.inline, inline_path, problems)


def upgrade_synchronization(sync: Synchronization, path: str, problems: Problems) -> None:
    _join_list(sync, "semaphore", "semaphores", path, problems)
    _join_list(sync, "mutex", "mutexes", path, problems)
