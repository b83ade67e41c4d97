"""The state one check carries: options, the resolver, the problems found, templates already validated.

A template is validated once per check, whatever calls it (Argo caches by scope and name too). Problems
found inside a referenced (Cluster)WorkflowTemplate cannot point into the checked document, so they are
reported at the reference that reached them (`Job.site`), naming the object and the path inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.errors import Problems
from workflow.resolve import Owner, Resolution, Resolver
from workflow.validate.memo import ERROR, MISSING, WARNING, Recorder, TemplateMemo
from workflow.validate.variables import GlobalScope, Scope, TemplateInfo


@dataclass(slots=True)
class Options:
    lint: bool = False
    missing_reference_is_warning: bool = False
    template_referencing: str = ""
    extra_allowed: frozenset[str] = frozenset()


@dataclass(slots=True)
class Job:
    """One template to validate, and where it sits."""

    owner: Owner
    tmpl: dict[str, Any]
    path: str  # in the owner's document
    site: str  # in the checked document: where problems of a referenced object are reported
    exit_handler: bool = False
    outer: Scope | None = None  # the scope around an inline template
    caller: str = ""  # 'step "a"' for an inline template
    # Where the holders of this job resolve when that is not `owner`: a Workflow's own spec (reported at
    # its own paths) whose templates come from its workflowTemplateRef.
    scope_owner: Owner | None = None
    # Where problems of the templates it reaches are reported when they come from another object.
    target_site: str | None = None

    @property
    def name(self) -> str:
        name = self.tmpl.get("name")
        return name if isinstance(name, str) else ""

    @property
    def label(self) -> str:
        if self.outer is not None or not self.name:
            return f"the inline template of {self.caller}" if self.caller else "the inline template"
        return f'template "{self.name}"'


@dataclass
class Ctx:
    options: Options
    resolver: Resolver
    globals: GlobalScope
    exec_spec: dict[str, Any]  # the spec the workflow runs with (templateDefaults, arguments)
    template_validation: bool = False  # a (Cluster)WorkflowTemplate checked on its own
    problems: Problems = field(default_factory=Problems)
    infos: dict[int, TemplateInfo] = field(default_factory=dict)  # id(template) -> info, once validated
    exit_ids: set[int] = field(default_factory=set)  # templates reachable from the exit handler
    reported: set[tuple[str, str]] = field(default_factory=set)  # relocated problems already reported
    seen_owners: set[int] = field(default_factory=set)  # referenced objects whose parse errors were reported
    needs: dict[int, Any] = field(default_factory=dict)  # id(template) -> inputs a caller must supply
    recorder: Recorder | None = None  # a referenced template being validated for the memo (memo.py)
    memo: TemplateMemo | None = None  # the caller's, kept between checks (workflow.check.CheckCaches)
    # id(holder) -> (holder, owner, resolution), from reachable(): what call() would resolve again
    resolved: dict[int, tuple[dict[str, Any], Owner, Resolution]] = field(default_factory=dict)

    def _emit(self, owner: Owner | None, site: str, path: str, message: str, warning: bool) -> None:
        add = self.problems.warn if warning else self.problems.error
        if owner is None or not owner.external:
            add(path, message)
            return
        path = owner.raw_path(path)  # as written in the referenced object (a v3 `mutex`, not `mutexes[0]`)
        text = f"{owner.label}: {path}: {message}" if path else f"{owner.label}: {message}"
        if (site, text) in self.reported:
            return
        self.reported.add((site, text))
        add(site, text)

    def error(self, job: Job | None, path: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.note(job, ERROR, path, message)
        self._emit(job.owner if job else None, job.site if job else "", path, message, False)

    def warn(self, job: Job | None, path: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.note(job, WARNING, path, message)
        self._emit(job.owner if job else None, job.site if job else "", path, message, True)

    def missing(self, job: Job | None, path: str, message: str) -> None:
        """A reference to something that does not exist (yet): a warning at admission, else an error."""
        if self.recorder is not None:
            self.recorder.note(job, MISSING, path, message)
        self._emit(
            job.owner if job else None,
            job.site if job else "",
            path,
            message,
            self.options.missing_reference_is_warning,
        )

    def owner_problems(self, owner: Owner, site: str) -> None:
        """A referenced object that does not even parse: its errors, once, at the first reference."""
        if id(owner) in self.seen_owners or not owner.problems:
            return
        self.seen_owners.add(id(owner))
        first = owner.problems[0]
        more = f" (and {len(owner.problems) - 1} more)" if len(owner.problems) > 1 else ""
        self.problems.error(site, f"{owner.label} is invalid: {first}{more}")
