"""Argo v3 fields that v4.0 removed, accepted with a warning and converted to their v4 form.

`CronWorkflow.spec.schedule` joins `schedules`; `synchronization.semaphore` / `mutex` join
`semaphores` / `mutexes`; `podPriority` (workflow) and `priority` (template) are kept, with a warning.
Runs on the typed object after a successful decode; the messages are the walker's (LEGACY_FIELDS).
"""

from __future__ import annotations

from workflow.errors import Problems, child
from workflow.parse_walk import LEGACY_FIELDS
from workflow.types import CronWorkflowSpec, Synchronization, Template, WorkflowSpec


def upgrade_cron_spec(spec: CronWorkflowSpec, path: str, problems: Problems) -> None:
    if spec.schedule is not None:
        problems.warn(child(path, "schedule"), LEGACY_FIELDS[("CronWorkflowSpec", "schedule")])
        schedules = list(spec.schedules or [])
        if spec.schedule not in schedules:
            schedules.insert(0, spec.schedule)
        spec.schedules = schedules
        spec.schedule = None
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
    if sync.semaphore is not None:
        problems.warn(child(path, "semaphore"), LEGACY_FIELDS[("Synchronization", "semaphore")])
        semaphores = list(sync.semaphores or [])
        if sync.semaphore not in semaphores:
            semaphores.insert(0, sync.semaphore)
        sync.semaphores = semaphores
        sync.semaphore = None
    if sync.mutex is not None:
        problems.warn(child(path, "mutex"), LEGACY_FIELDS[("Synchronization", "mutex")])
        mutexes = list(sync.mutexes or [])
        if sync.mutex not in mutexes:
            mutexes.insert(0, sync.mutex)
        sync.mutexes = mutexes
        sync.mutex = None
