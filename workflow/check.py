"""The one entry point that lint, the webhook and the controller share: check one Argo object.

`check_object(doc, source)` parses, resolves references through `source`, validates (argo-anchor.md §5
and §5.11) and returns every problem with its field path, never raising on bad input.

INTERFACE FIRST: the body is filled in by the validation work; the signature is the contract that
the webhook (webhook/) and `sluice lint` code against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from workflow.errors import Problem

ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


class TemplateSource(Protocol):
    """Where templateRef / workflowTemplateRef are looked up (files, an informer cache, a test table)."""

    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None: ...


@dataclass(slots=True)
class CheckOptions:
    lint: bool = False  # Argo's Opts.Lint: arguments may lack values
    # Controller config workflowRestrictions.templateReferencing: "" | "Strict" | "Secure"
    template_referencing: str = ""
    # A reference that cannot be found: False = error (lint, controller), True = warning (admission).
    missing_reference_is_warning: bool = False


@dataclass(slots=True)
class CheckReport:
    kind: str
    name: str
    namespace: str | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # The object as it will run: every templateRef / workflowTemplateRef resolved and merged (JSON form).
    expanded: dict[str, Any] | None = None
    # Every container (init, main, sidecar) each leaf template would run, after defaults (JSON form),
    # each with "template" (the template's name) and "role" ("init" | "main" | "sidecar").
    containers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_object(doc: Any, source: TemplateSource, options: CheckOptions | None = None) -> CheckReport:
    raise NotImplementedError("filled in by the validation work")
