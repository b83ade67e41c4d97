"""The one entry point that lint, the webhook and the controller share: check one Argo object.

`check_object(doc, source)` parses, resolves references through `source`, validates (workflow/validate/)
and returns every problem with its field path, never raising on bad input.

`check_objects(docs)` checks several objects at once, references resolving among them (`sluice lint`
over a directory, the conformance corpus). The dataclasses are the contract the webhook (webhook/) and
`sluice lint` code against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from workflow.errors import Problem
from workflow.expand import containers, expand
from workflow.parse import parse_object
from workflow.resolve import ParseCache, Resolver
from workflow.resolve.sources import ListSource, TemplateSource
from workflow.types import API_VERSION, ARGO_GROUP
from workflow.validate.context import Options
from workflow.validate.memo import TemplateMemo
from workflow.validate.object import validate_object

__all__ = [
    "ARGO_GROUP",
    "ARGO_KINDS",
    "CheckCaches",
    "CheckOptions",
    "CheckReport",
    "TemplateSource",
    "check_object",
    "check_objects",
]

ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


@dataclass(slots=True)
class CheckOptions:
    lint: bool = False  # Argo's Opts.Lint: arguments may lack values
    # Controller config workflowRestrictions.templateReferencing: "" | "Strict" | "Secure"
    template_referencing: str = ""
    # A reference that cannot be found: False = error (lint, controller), True = warning (admission).
    missing_reference_is_warning: bool = False
    # Controller env WORKFLOW_USER_OVERRIDE_ALLOWLIST: more spec fields (JSON names) a user may set under
    # Strict/Secure. artifactGC's serviceAccountName/podSpecPatch/podMetadata stay blocked regardless.
    user_override_allowlist: tuple[str, ...] = ()
    # The report's `expanded` shares its parts with the checked object and the referenced templates
    # instead of being a deep copy: for a caller that only reads it (the webhook, which packs it).
    share_expanded: bool = False


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
    # Not checked: not an Argo object (no problems), or an Argo kind sluice does not handle (a warning).
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class CheckCaches:
    """What a program keeps between checks: parsed referenced objects (by resourceVersion) and referenced
    templates' validations (workflow/validate/memo.py). Owned by the program (the webhook keeps one for
    its life, `check_objects` one per call); nothing is shared behind the caller's back.

    Threads that share one must give it locks: `CheckCaches.create(threading.Lock)` (the core imports no
    threading, so the program passes the lock type in).
    """

    parse: ParseCache
    memo: TemplateMemo

    @classmethod
    def create(
        cls, lock: Callable[[], AbstractContextManager[Any]] | None = None, parse_entries: int = 256
    ) -> CheckCaches:
        return cls(
            ParseCache(parse_entries, lock() if lock is not None else None),
            TemplateMemo(lock=lock() if lock is not None else None),
        )


def check_object(
    doc: Any, source: TemplateSource, options: CheckOptions | None = None, caches: CheckCaches | None = None
) -> CheckReport:
    """Parse, resolve and validate one object; every problem, never an exception.

    Without `caches`, nothing outlives the call (correct, but every referenced template is parsed and
    validated again): a program that checks many objects passes its own CheckCaches.
    """
    caches = caches if caches is not None else CheckCaches(ParseCache(), TemplateMemo())
    return _check(doc, source, options or CheckOptions(), caches)


def check_objects(docs: list[Any], options: CheckOptions | None = None) -> list[CheckReport]:
    """One report per document, in order; references resolve among the documents given.

    Documents that are not Argo objects come back `skipped` without problems; Argo kinds sluice does not
    handle (WorkflowEventBinding, WorkflowTaskSet, ...) come back `skipped` with a warning.
    """
    source = ListSource(docs)
    caches = CheckCaches.create(parse_entries=max(1024, 2 * len(docs)))
    return [_check(doc, source, options or CheckOptions(), caches, parse_cached=True) for doc in docs]


def _check(
    doc: Any, source: Any, options: CheckOptions, caches: CheckCaches, parse_cached: bool = False
) -> CheckReport:
    # Among several objects, each is parsed once whether checked or referenced; a lone object (an
    # admission request) is parsed and forgotten.
    parsed = caches.parse.parse(doc) if parse_cached and isinstance(doc, dict) else parse_object(doc)
    report = CheckReport(parsed.kind or "", parsed.name or "", parsed.namespace)
    api_version = parsed.api_version or ""
    if parsed.kind not in ARGO_KINDS or not api_version.startswith(ARGO_GROUP + "/"):
        report.skipped = True
        if api_version.startswith(ARGO_GROUP + "/"):
            report.warnings.append(
                Problem(
                    "kind", f"{parsed.kind or 'an object without a kind'} is not checked by sluice; skipped"
                )
            )
        elif not isinstance(doc, dict):
            report.errors.extend(parsed.errors)
        return report
    report.errors.extend(parsed.errors)
    report.warnings.extend(parsed.warnings)
    if api_version != API_VERSION:
        return report  # the parser said which version it expects; the rest would be noise
    # Validation reads the normalised form (workflow/parse/normalise.py); its problems point at what the user wrote.
    norm = parsed.normalised
    try:
        resolver = Resolver(source, parsed.namespace, caches.parse)
        _validate(parsed.doc if norm is not None else doc, resolver, options, report, norm, caches.memo)
    except RecursionError:
        report.errors.append(Problem("", "the document is nested too deeply to check"))
    except Exception as exc:  # a bug of ours must not become a traceback for the user (or a 500 in admission)
        report.errors.append(
            Problem("", f"internal error while checking this object: {type(exc).__name__}: {exc}")
        )
    report.errors = sorted(_unique(report.errors), key=_document_order)
    report.warnings = sorted(_unique(report.warnings), key=_document_order)
    return report


def _validate(
    doc: dict[str, Any],
    resolver: Resolver,
    options: CheckOptions,
    report: CheckReport,
    norm: Any,
    memo: TemplateMemo,
) -> None:
    opts = Options(
        options.lint,
        options.missing_reference_is_warning,
        options.template_referencing,
        frozenset(options.user_override_allowlist),
    )
    outcome = validate_object(doc, resolver, opts, memo)
    errors, warnings = outcome.ctx.problems.errors, outcome.ctx.problems.warnings
    report.errors.extend(norm.raw_problems(errors) if norm is not None else errors)
    report.warnings.extend(norm.raw_problems(warnings) if norm is not None else warnings)
    eff = outcome.effective
    reached = outcome.reached
    report.expanded = expand(doc, eff, reached, copy=not options.share_expanded)
    defaults = eff.spec.get("templateDefaults") if eff is not None else None
    report.containers = containers(reached, defaults)


def _document_order(problem: Problem) -> list[tuple[int, Any]]:
    """Paths in document order: `spec.templates[2]` before `spec.templates[10]`."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"\[(\d+)\]", problem.field)]


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
