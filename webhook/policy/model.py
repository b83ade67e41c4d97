"""The WorkflowPolicy object (sluice.dev/v1alpha1, cluster-scoped) and its parsing.

```yaml
apiVersion: sluice.dev/v1alpha1
kind: WorkflowPolicy
metadata: {name: allowed-registries}
spec:
  failurePolicy: Fail            # Fail (default): a rule that errors counts as violated; Ignore: skipped
  match:                         # every part optional; an empty match matches everything
    kinds: [Workflow, CronWorkflow, WorkflowTemplate, ClusterWorkflowTemplate]
    operations: [CREATE, UPDATE]
    namespaces: [team-a]         # exact names; cluster-scoped objects match only when this is empty
    excludeNamespaces: [sandbox]
    namespaceSelector: {matchLabels: {...}}   # the namespace's labels (cluster-scoped objects: never)
    objectSelector: {matchLabels: {...}, matchExpressions: [{key, operator, values}]}
  validations:                   # (`rules` is accepted as another name for it)
  - name: registries             # optional, shown with the message
    expression: "containers.all(c, c.image.startsWith('registry.corp/'))"
    message: "images must come from registry.corp/"
    messageExpression: "'...' + ..."   # optional, wins over message when it evaluates to a string
    action: Deny                 # Deny | Warn | Audit
    fieldPath: spec.templates    # optional: the field the denial is reported on
```

Parsing collects every problem with its field path (contract 4) and compiles every expression, so a
policy that does not compile is refused when it is submitted, not when it is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhook.policy.cel import CelError, Evaluator, Program
from workflow.check import ARGO_KINDS
from workflow.errors import Problem, Problems
from workflow.suggest import did_you_mean

GROUP, VERSION, KIND = "sluice.dev", "v1alpha1", "WorkflowPolicy"
API_VERSION = f"{GROUP}/{VERSION}"
ACTIONS = ("Deny", "Warn", "Audit")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
MAX_RULES = 64
MAX_EXPRESSION_CHARS = 5000


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def holds(self, labels: dict[str, Any]) -> bool:
        present = self.key in labels
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        inside = present and labels[self.key] in self.values
        return inside if self.operator == "In" else not inside


@dataclass(slots=True)
class Match:
    kinds: tuple[str, ...] = ARGO_KINDS
    operations: tuple[str, ...] = ("CREATE", "UPDATE")
    namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    namespace_requirements: tuple[Requirement, ...] | None = None  # None: no namespaceSelector

    def matches(
        self,
        *,
        kind: str,
        operation: str,
        namespace: str | None,
        labels: Any,
        namespace_labels: Callable[[str], dict[str, str]] | None = None,
    ) -> bool:
        if kind not in self.kinds or operation not in self.operations:
            return False
        if self.namespaces and namespace not in self.namespaces:
            return False
        if namespace is not None and namespace in self.exclude_namespaces:
            return False
        if self.namespace_requirements is not None:
            if namespace is None:
                return False
            ns_labels = namespace_labels(namespace) if namespace_labels else {}
            if not all(r.holds(ns_labels) for r in self.namespace_requirements):
                return False
        labels = labels if isinstance(labels, dict) else {}
        return all(r.holds(labels) for r in self.requirements)


@dataclass(slots=True)
class Rule:
    index: int
    program: Program
    action: str = "Deny"
    message: str = ""
    message_program: Program | None = None
    field_path: str = ""
    name: str = ""


@dataclass(slots=True)
class Policy:
    name: str
    match: Match = field(default_factory=Match)
    rules: list[Rule] = field(default_factory=list)
    ignore_errors: bool = False  # failurePolicy: Ignore


def _strings(value: Any, path: str, problems: Problems, *, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.error(path, "must be a list of strings")
        return ()
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.error(f"{path}[{i}]", "must be a non-empty string")
        elif allowed and item not in allowed:
            problems.error(f"{path}[{i}]", f"must be one of {', '.join(allowed)}, not {item!r}")
        else:
            out.append(item)
    return tuple(out)


def _selector(value: Any, path: str, problems: Problems) -> tuple[Requirement, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        problems.error(path, "must be a label selector (matchLabels, matchExpressions)")
        return ()
    reqs: list[Requirement] = []
    labels = value.get("matchLabels") or {}
    if not isinstance(labels, dict):
        problems.error(f"{path}.matchLabels", "must be a mapping of label to value")
    else:
        for key, val in labels.items():
            if not isinstance(val, str):
                problems.error(f"{path}.matchLabels.{key}", "must be a string")
            else:
                reqs.append(Requirement(key, "In", (val,)))
    exprs = value.get("matchExpressions") or []
    if not isinstance(exprs, list):
        problems.error(f"{path}.matchExpressions", "must be a list")
        exprs = []
    for i, item in enumerate(exprs):
        where = f"{path}.matchExpressions[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            problems.error(where, "must have a key")
            continue
        op = item.get("operator")
        if op not in OPERATORS:
            problems.error(f"{where}.operator", f"must be one of {', '.join(OPERATORS)}")
            continue
        values = _strings(item.get("values"), f"{where}.values", problems)
        if op in ("In", "NotIn") and not values:
            problems.error(f"{where}.values", f"must not be empty for {op}")
        if op in ("Exists", "DoesNotExist") and values:
            problems.error(f"{where}.values", f"must be empty for {op}")
        reqs.append(Requirement(item["key"], op, values))
    return tuple(reqs)


MATCH_FIELDS = (
    "kinds",
    "operations",
    "namespaces",
    "excludeNamespaces",
    "objectSelector",
    "namespaceSelector",
)


def _match(value: Any, problems: Problems) -> Match:
    if value is None:
        return Match()
    if not isinstance(value, dict):
        problems.error("spec.match", "must be a mapping")
        return Match()
    # An unknown key (a typo'd `kind:`) would leave the policy matching every kind: refused, never
    # ignored. The CRD keeps unknown fields under `match` so that they reach this check, not pruning.
    for key in sorted(set(value) - set(MATCH_FIELDS), key=str):
        problems.error(f"spec.match.{key}", "unknown field" + did_you_mean(str(key), MATCH_FIELDS))
    kinds = _strings(value.get("kinds"), "spec.match.kinds", problems, allowed=ARGO_KINDS)
    ops = _strings(value.get("operations"), "spec.match.operations", problems, allowed=("CREATE", "UPDATE"))
    return Match(
        kinds=kinds or ARGO_KINDS,
        operations=ops or ("CREATE", "UPDATE"),
        namespaces=_strings(value.get("namespaces"), "spec.match.namespaces", problems),
        exclude_namespaces=_strings(value.get("excludeNamespaces"), "spec.match.excludeNamespaces", problems),
        requirements=_selector(value.get("objectSelector"), "spec.match.objectSelector", problems),
        namespace_requirements=(
            _selector(value["namespaceSelector"], "spec.match.namespaceSelector", problems)
            if value.get("namespaceSelector") is not None
            else None
        ),
    )


def _compile(text: Any, path: str, problems: Problems, cel: Evaluator) -> Program | None:
    if not isinstance(text, str) or not text.strip():
        problems.error(path, "must be a non-empty CEL expression")
        return None
    if len(text) > MAX_EXPRESSION_CHARS:
        problems.error(path, f"is {len(text)} characters, over the {MAX_EXPRESSION_CHARS} limit")
        return None
    try:
        return cel.compile(text)
    except CelError as exc:
        problems.error(path, str(exc))
        return None


def _rules(value: Any, key: str, problems: Problems, cel: Evaluator) -> list[Rule]:
    if not isinstance(value, list) or not value:
        problems.error(f"spec.{key}", "must be a non-empty list of rules")
        return []
    if len(value) > MAX_RULES:
        problems.error(f"spec.{key}", f"has {len(value)} rules, over the limit of {MAX_RULES}")
        return []
    rules = []
    for i, item in enumerate(value):
        where = f"spec.{key}[{i}]"
        if not isinstance(item, dict):
            problems.error(where, "must be a mapping with an expression")
            continue
        unknown = set(item) - {"name", "expression", "message", "messageExpression", "action", "fieldPath"}
        for extra in sorted(unknown):
            problems.error(f"{where}.{extra}", "unknown field")
        action = item.get("action", "Deny")
        if action not in ACTIONS:
            problems.error(f"{where}.action", f"must be one of {', '.join(ACTIONS)}, not {action!r}")
        message = item.get("message", "")
        if not isinstance(message, str):
            problems.error(f"{where}.message", "must be a string")
            message = ""
        field_path = item.get("fieldPath", "")
        if not isinstance(field_path, str):
            problems.error(f"{where}.fieldPath", "must be a string")
            field_path = ""
        rule_name = item.get("name", "")
        if not isinstance(rule_name, str):
            problems.error(f"{where}.name", "must be a string")
            rule_name = ""
        program = _compile(item.get("expression"), f"{where}.expression", problems, cel)
        message_program = None
        if "messageExpression" in item:
            message_program = _compile(item["messageExpression"], f"{where}.messageExpression", problems, cel)
        if program is not None:
            rules.append(Rule(i, program, action, message, message_program, field_path, rule_name))
    return rules


def parse_policy(doc: Any, cel: Evaluator) -> tuple[Policy | None, list[Problem]]:
    """The compiled policy and no problems, or None and every problem found (with field paths)."""
    problems = Problems()
    if not isinstance(doc, dict):
        return None, [Problem("", "a WorkflowPolicy must be a mapping")]
    if doc.get("apiVersion") != API_VERSION:
        problems.error("apiVersion", f"must be {API_VERSION}")
    if doc.get("kind") != KIND:
        problems.error("kind", f"must be {KIND}")
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        problems.error("metadata.name", "is required")
        name = ""
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        problems.error("spec", "is required and must be a mapping")
        return None, problems.errors
    spec_fields = ("match", "validations", "rules", "failurePolicy")
    for key in sorted(set(spec) - set(spec_fields), key=str):
        problems.error(f"spec.{key}", "unknown field" + did_you_mean(str(key), spec_fields))
    rules_key = "rules" if "rules" in spec and "validations" not in spec else "validations"
    if "rules" in spec and "validations" in spec:
        problems.error("spec.rules", "give the rules once, as validations or as rules")
    failure = spec.get("failurePolicy", "Fail")
    if failure not in ("Fail", "Ignore"):
        problems.error("spec.failurePolicy", f"must be Fail or Ignore, not {failure!r}")
    policy = Policy(
        name, _match(spec.get("match"), problems), _rules(spec.get(rules_key), rules_key, problems, cel)
    )
    policy.ignore_errors = failure == "Ignore"
    if problems.errors:
        return None, problems.errors
    return policy, []
