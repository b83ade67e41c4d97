"""Template resolution: local templates, templateRef and workflowTemplateRef.

A `Resolver` looks (Cluster)WorkflowTemplates up through a `TemplateSource` once per check, parsing each
with the strict parser (cached per source object, so an informer's unchanged object is parsed once).
`resolve_holder` finds the template a step, task, hook or exit handler calls, and says why when it
cannot. `effective_spec` is the spec a Workflow runs with (workflowTemplateRef joined, with the
templateReferencing allow-list applied), and `expand` (expand.py) builds the object with every
reference resolved.

Everything works on plain JSON (dicts as loaded from YAML), so field paths are the document's own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from workflow.errors import Problem, child
from workflow.merge import join_workflow_spec
from workflow.parse import Parsed, parse_object
from workflow.resolve.restrictions import is_restricted, sanitize_user_spec
from workflow.suggest import did_you_mean

WFT = "WorkflowTemplate"
CWFT = "ClusterWorkflowTemplate"
RESOURCE_NAMES = {WFT: "workflowtemplates.argoproj.io", CWFT: "clusterworkflowtemplates.argoproj.io"}


@dataclass(eq=False)
class Owner:
    """An object whose `spec.templates` template names are looked up in (Argo's "template base")."""

    kind: str
    name: str
    namespace: str | None
    spec: dict[str, Any]
    spec_path: str = "spec"
    external: bool = False  # a referenced object, not the one being checked
    problems: list[Problem] = field(default_factory=list)  # its parser errors
    # Paths in its normalised form -> paths as written (workflow/parse/normalise.py), for its problems.
    raw_path: Callable[[str], str] = str
    _by_name: dict[str, tuple[int, dict[str, Any]]] | None = None

    @property
    def label(self) -> str:
        return f'{self.kind} "{self.name}"'

    @property
    def templates_path(self) -> str:
        return child(self.spec_path, "templates")

    def templates(self) -> list[tuple[int, dict[str, Any]]]:
        items = self.spec.get("templates")
        if not isinstance(items, list):
            return []
        return [(i, t) for i, t in enumerate(items) if isinstance(t, dict)]

    def template(self, name: str) -> tuple[int, dict[str, Any]] | None:
        if self._by_name is None:
            self._by_name = {}
            for i, tmpl in self.templates():
                tname = tmpl.get("name")
                if isinstance(tname, str):
                    self._by_name.setdefault(tname, (i, tmpl))
        return self._by_name.get(name)

    def stored_key(self, template_name: str) -> str:
        """Argo's key of a referenced template in `status.storedTemplates`."""
        scope = "cluster" if self.kind == CWFT else "namespaced"
        return f"{scope}/{self.name}/{template_name}"


@dataclass(slots=True)
class Resolution:
    """What a holder (step, task, hook, exit handler) calls.

    `template` is None when it cannot be resolved: then `message` says why (at `problem_field` under the
    holder), `dynamic` marks a reference only known at runtime, `missing` a reference to an object or
    template that does not exist (a warning at admission, docs/architecture.md, contract 8).
    """

    template: dict[str, Any] | None = None
    owner: Owner | None = None
    path: str = ""  # where the template is in its owner's document
    index: int | None = None
    message: str | None = None
    problem_field: str = ""
    dynamic: bool = False
    missing: bool = False


class ParseCache:
    """Parsed source objects, keyed by uid+resourceVersion when they have one, else by identity.

    Objects from an informer carry a resourceVersion: an unchanged template is parsed once across checks.
    Identity entries keep their document alive, so an id is never reused while its entry is cached.

    Owned by the program that keeps it between checks (workflow.check.CheckCaches); a program that
    shares it between threads passes a `lock` (a `threading.Lock()`: the core imports no threading).
    Parsing happens outside the lock: two threads may parse the same object once each, never corrupt it.
    """

    def __init__(self, max_entries: int = 1024, lock: AbstractContextManager[Any] | None = None):
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, tuple[dict[str, Any], Parsed]] = OrderedDict()
        self._lock = lock if lock is not None else nullcontext()

    def parse(self, doc: dict[str, Any]) -> Parsed:
        given = doc.get("metadata")
        meta: dict[str, Any] = given if isinstance(given, dict) else {}
        rv = meta.get("resourceVersion")
        if isinstance(rv, str) and rv:
            key: Any = ("rv", doc.get("kind"), meta.get("namespace"), meta.get("name"), meta.get("uid"), rv)
        else:
            key = ("id", id(doc))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (key[0] == "rv" or entry[0] is doc):
                self._entries.move_to_end(key)
                return entry[1]
        parsed = parse_object(doc)
        with self._lock:
            self._entries[key] = (doc, parsed)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return parsed

    def __len__(self) -> int:
        return len(self._entries)


class Resolver:
    """Looks templates up through a TemplateSource, once per (kind, name) for its lifetime."""

    def __init__(self, source: Any, namespace: str | None, cache: ParseCache | None = None):
        self.source = source
        self.namespace = namespace
        # Without a cache of the caller's, referenced objects are parsed once for this resolver's life.
        self.cache = cache if cache is not None else ParseCache()
        self._owners: dict[tuple[str, str], Owner | None] = {}
        self._resolved: dict[
            tuple[Any, ...], Resolution
        ] = {}  # holders that name a template, by what they name

    def owner(self, cluster: bool, name: str) -> Owner | None:
        kind = CWFT if cluster else WFT
        key = (kind, name)
        if key not in self._owners:
            self._owners[key] = self._load(kind, name)
        return self._owners[key]

    def _load(self, kind: str, name: str) -> Owner | None:
        try:
            if kind == CWFT:
                doc = self.source.cluster_workflow_template(name)
            else:
                doc = self.source.workflow_template(self.namespace, name)
        except Exception as exc:  # a source is outside code: its failure is reported, never raised
            return Owner(
                kind, name, self.namespace, {}, external=True, problems=[Problem("", f"lookup failed: {exc}")]
            )
        if not isinstance(doc, dict):
            return None
        parsed = self.cache.parse(doc)
        # The template's normalised form (v3 fields upgraded, workflow/parse/normalise.py) is what callers run.
        if parsed.doc is not None:
            doc = parsed.doc
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        raw_path = parsed.normalised.raw_path if parsed.normalised is not None else str
        return Owner(kind, name, ns, spec, external=True, problems=list(parsed.errors), raw_path=raw_path)

    def not_found(self, cluster: bool, name: str) -> str:
        return f'{RESOURCE_NAMES[CWFT if cluster else WFT]} "{name}" not found'

    def resolve_holder(self, holder: dict[str, Any], owner: Owner, holder_path: str) -> Resolution:
        """The template `holder` calls, resolved in the scope of `owner` (validate.go validateTemplateHolder)."""
        ref, name = holder.get("templateRef"), holder.get("template")
        if holder.get("inline") is None and type(name) is not dict and type(ref) is not list:
            if isinstance(ref, dict):
                key: tuple[Any, ...] = (
                    "ref",
                    name,
                    ref.get("name"),
                    ref.get("template"),
                    ref.get("clusterScope"),
                )
            else:
                key = ("name", id(owner), name, ref)
            try:
                found = self._resolved.get(key)
            except TypeError:  # an unhashable value where a name belongs: resolved (and refused) below
                return self._resolve(holder, owner, holder_path)
            if found is None:
                found = self._resolved[key] = self._resolve(holder, owner, holder_path)
            return found
        return self._resolve(holder, owner, holder_path)

    def _resolve(self, holder: dict[str, Any], owner: Owner, holder_path: str) -> Resolution:
        ref = holder.get("templateRef")
        name = holder.get("template")
        inline = holder.get("inline")
        if ref is not None:
            if not isinstance(ref, dict):
                return Resolution(message="templateRef must be an object", problem_field="templateRef")
            if isinstance(name, str) and name:
                return Resolution(
                    message="template name cannot be specified with templateRef", problem_field="template"
                )
            ref_name, ref_tmpl = ref.get("name"), ref.get("template")
            if not isinstance(ref_name, str) or not ref_name:
                return Resolution(message="resource name is required", problem_field="templateRef.name")
            if not isinstance(ref_tmpl, str) or not ref_tmpl:
                return Resolution(message="template name is required", problem_field="templateRef.template")
            if "{{" in ref_name or "{{" in ref_tmpl:
                return Resolution(dynamic=True)
            cluster = ref.get("clusterScope") is True
            target = self.owner(cluster, ref_name)
            if target is None:
                return Resolution(
                    message=self.not_found(cluster, ref_name), problem_field="templateRef.name", missing=True
                )
            found = target.template(ref_tmpl)
            if found is None:
                return Resolution(
                    message=f"template reference {ref_name}.{ref_tmpl} not found",
                    problem_field="templateRef.template",
                    missing=True,
                )
            index, tmpl = found
            return Resolution(tmpl, target, child(target.templates_path, index), index)
        if inline is not None:
            if not isinstance(inline, dict):
                return Resolution(message="inline must be an object", problem_field="inline")
            return Resolution(inline, owner, child(holder_path, "inline"))
        if isinstance(name, str) and name:
            found = owner.template(name)
            if found is None:
                known = (t["name"] for _, t in owner.templates() if isinstance(t.get("name"), str))
                return Resolution(
                    message=f"template name '{name}' undefined" + did_you_mean(name, known, "'", True),
                    problem_field="template",
                )
            index, tmpl = found
            return Resolution(tmpl, owner, child(owner.templates_path, index), index)
        return Resolution(message="one of template, templateRef or inline is required", problem_field="")


def workflow_template_ref(spec: dict[str, Any]) -> tuple[str, bool] | None:
    """(name, clusterScope) of `spec.workflowTemplateRef`, or None."""
    ref = spec.get("workflowTemplateRef")
    if not isinstance(ref, dict):
        return None
    name = ref.get("name")
    return (name if isinstance(name, str) else "", ref.get("clusterScope") is True)


@dataclass(slots=True)
class Effective:
    """The spec a Workflow runs with, and where its templates come from."""

    spec: dict[str, Any]
    owner: Owner  # the object whose templates are the workflow's own
    base: Owner | None = None  # the referenced (Cluster)WorkflowTemplate, when there is one
    ref_missing: bool = False


def effective_spec(
    spec: dict[str, Any],
    own: Owner,
    resolver: Resolver,
    template_referencing: str = "",
    extra_allowed: frozenset[str] | set[str] = frozenset(),
) -> Effective:
    """Workflow over WorkflowTemplate (JoinWorkflowSpec); under Strict/Secure only allow-listed user fields."""
    ref = workflow_template_ref(spec)
    if ref is None or not ref[0]:
        return Effective(spec, own)
    base = resolver.owner(ref[1], ref[0])
    if base is None:
        return Effective(spec, own, ref_missing=True)
    user = sanitize_user_spec(spec, extra_allowed) if is_restricted(template_referencing) else spec
    merged = join_workflow_spec(user, base.spec)
    owner = Owner(
        base.kind, base.name, base.namespace, merged, base.spec_path, external=True, problems=base.problems
    )
    return Effective(merged, owner, base)


def template_holders(
    tmpl: dict[str, Any], path: str, paths: bool = True
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(path, holder, kind) for everything in a template that calls another template.

    kind is "step", "task", "hook" or "exit" (a step's or task's deprecated `onExit: <name>`). With
    `paths=False` only inline holders get their path (the one thing resolution needs it for).
    """
    steps = tmpl.get("steps")
    if isinstance(steps, list):
        for g, group in enumerate(steps):
            if not isinstance(group, list):
                continue
            for s, step in enumerate(group):
                if isinstance(step, dict):
                    at = f"{path}.steps[{g}][{s}]" if paths or "inline" in step else ""
                    yield at, step, "step"
                    if "onExit" in step or "hooks" in step:
                        yield from _exit_and_hooks(step, at)
    dag = tmpl.get("dag")
    if isinstance(dag, dict) and isinstance(dag.get("tasks"), list):
        for t, task in enumerate(dag["tasks"]):
            if isinstance(task, dict):
                at = f"{path}.dag.tasks[{t}]" if paths or "inline" in task else ""
                yield at, task, "task"
                if "onExit" in task or "hooks" in task:
                    yield from _exit_and_hooks(task, at)


def _exit_and_hooks(item: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    on_exit = item.get("onExit")
    if isinstance(on_exit, str) and on_exit:
        yield child(path, "onExit"), {"template": on_exit}, "exit"
    yield from hook_holders(item.get("hooks"), child(path, "hooks"))


def hook_holders(hooks: Any, path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    if isinstance(hooks, dict):
        for name, hook in hooks.items():
            if isinstance(hook, dict) and isinstance(name, str):
                yield f"{path}[{name}]", hook, "hook"


@dataclass(slots=True)
class Reached:
    owner: Owner
    path: str  # where the template is in its owner's document
    template: dict[str, Any]


def reachable(
    resolver: Resolver,
    roots: list[tuple[Owner, str, dict[str, Any]]],
    resolutions: dict[int, tuple[dict[str, Any], Owner, Resolution]] | None = None,
) -> list[Reached]:
    """Every template reachable from `roots` (owner, path, template) through steps, tasks, hooks and
    exit handlers, following templateRefs into other objects; each once, roots first. References that
    do not resolve are skipped (validation reports them).

    `resolutions`, when given, gets id(holder) -> (holder, owner, resolution) for every holder without an
    inline template (their resolution does not depend on where they are written), for the caller to
    reuse while the document is unchanged."""
    out: list[Reached] = []
    seen: set[int] = set()
    queue = list(roots)
    resolve = resolver.resolve_holder
    for owner, path, tmpl in queue:  # first in, first out: the queue grows while it is read
        if id(tmpl) in seen:
            continue
        seen.add(id(tmpl))
        out.append(Reached(owner, path, tmpl))
        if "steps" not in tmpl and "dag" not in tmpl:
            continue  # holds no step or task: calls nothing
        for holder_path, holder, _ in template_holders(tmpl, path, paths=False):
            res = resolve(holder, owner, holder_path)
            if resolutions is not None and holder.get("inline") is None:
                resolutions[id(holder)] = (holder, owner, res)
            if res.template is not None and res.owner is not None and id(res.template) not in seen:
                queue.append((res.owner, res.path, res.template))
    return out


def spec_roots(
    owner: Owner, resolver: Resolver, spec: dict[str, Any], exit_only: bool = False
) -> list[tuple[Owner, str, dict[str, Any]]]:
    """The templates a spec starts from: its entrypoint and every template it holds (or only its exit
    handlers: `onExit` and `hooks.exit`)."""
    roots: list[tuple[Owner, str, dict[str, Any]]] = []
    holders: list[tuple[str, dict[str, Any]]] = []
    on_exit = spec.get("onExit")
    if isinstance(on_exit, str) and on_exit:
        holders.append((child(owner.spec_path, "onExit"), {"template": on_exit}))
    hooks = spec.get("hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get("exit"), dict):
        holders.append((f"{child(owner.spec_path, 'hooks')}[exit]", hooks["exit"]))
    if not exit_only:
        for index, tmpl in owner.templates():
            roots.append((owner, child(owner.templates_path, index), tmpl))
        for path, hook, _ in hook_holders(hooks, child(owner.spec_path, "hooks")):
            holders.append((path, hook))
    for path, holder in holders:
        res = resolver.resolve_holder(holder, owner, path)
        if res.template is not None and res.owner is not None:
            roots.append((res.owner, res.path, res.template))
    return roots
