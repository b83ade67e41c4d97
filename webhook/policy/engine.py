"""Evaluating the loaded WorkflowPolicies against one admission request.

The set of policies is replaced as a whole (copy on write), so the informer can swap it on the event
loop while a worker thread evaluates: a request sees one consistent set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from webhook.policy.cel import CelError, Evaluator, one_line
from webhook.policy.model import Policy, Rule, parse_policy
from workflow.errors import Problem

_AUDIT_KEY_UNSAFE = re.compile(r"[^a-z0-9-]")
Expanded = dict[str, Any] | Callable[[], dict[str, Any]] | None


@dataclass(slots=True)
class Violation:
    policy: str
    rule: int
    action: str
    message: str
    field: str = ""
    rule_name: str = ""

    def problem(self) -> Problem:
        who = f"policy {self.policy}" + (f" ({self.rule_name})" if self.rule_name else "")
        return Problem(self.field, f"{who}: {self.message}")


@dataclass(slots=True)
class Outcome:
    violations: list[Violation] = field(default_factory=list)

    def of(self, action: str) -> list[Violation]:
        return [v for v in self.violations if v.action == action]

    @property
    def denials(self) -> list[Problem]:
        return [v.problem() for v in self.of("Deny")]

    @property
    def warnings(self) -> list[Problem]:
        return [v.problem() for v in self.of("Warn")]

    @property
    def audit_annotations(self) -> dict[str, str]:
        """AdmissionResponse.auditAnnotations: the API server prefixes each key with the webhook name."""
        out = {}
        for v in self.of("Audit"):
            key = _AUDIT_KEY_UNSAFE.sub("-", f"policy-{v.policy}-{v.rule}".lower())[:63].strip("-")
            out[key] = one_line(v.message, 1000)
        return out


def request_variable(
    *,
    operation: str,
    kind: str,
    namespace: str | None,
    name: str | None,
    user_info: dict[str, Any],
    dry_run: bool,
) -> dict[str, Any]:
    """The `request` variable rules see (shaped like ValidatingAdmissionPolicy's)."""
    user = {k: user_info[k] for k in ("username", "uid", "groups") if k in user_info}
    return {
        "operation": operation,
        "kind": kind,
        "namespace": namespace or "",
        "name": name or "",
        "userInfo": user,
        "dryRun": dry_run,
    }


def effective_spec(expanded: Any) -> dict[str, Any]:
    """The workflow spec that will run: spec, or spec.workflowSpec of a CronWorkflow."""
    spec = expanded.get("spec") if isinstance(expanded, dict) else None
    if not isinstance(spec, dict):
        return {}
    if expanded.get("kind") == "CronWorkflow":
        inner = spec.get("workflowSpec")
        return inner if isinstance(inner, dict) else {}
    return spec


def reachable_templates(expanded: Any) -> list[Any]:
    """The spec's own templates followed by every referenced one (status.storedTemplates)."""
    own = effective_spec(expanded).get("templates")
    out = [t for t in own if isinstance(t, dict)] if isinstance(own, list) else []
    status = expanded.get("status") if isinstance(expanded, dict) else None
    stored = status.get("storedTemplates") if isinstance(status, dict) else None
    if isinstance(stored, dict):
        out += [t for _, t in sorted(stored.items()) if isinstance(t, dict)]
    return out


class PolicySet:
    def __init__(
        self,
        cel: Evaluator,
        policies: Iterable[Policy] = (),
        namespace_labels: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self.cel = cel
        self._policies: dict[str, Policy] = {p.name: p for p in policies}
        # Labels of a namespace, for namespaceSelector (an informer in a cluster; none offline).
        self.namespace_labels = namespace_labels
        # Where rules run: None in this thread; the webhook server sets worker processes that can be
        # stopped at a time and memory limit (webhook/policy/worker.py).
        self.runner: RuleRunner | None = None
        # Policies whose latest version was refused (name -> the first problem); the last good version,
        # if any, stays in force (issue 13 item 8: an edit into invalid CEL silently dropped the policy).
        self.refused: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._policies)

    @property
    def names(self) -> list[str]:
        return sorted(self._policies)

    def put(self, policy: Policy) -> None:
        policies = dict(self._policies)
        policies[policy.name] = policy
        self._policies = policies

    def remove(self, name: str) -> None:
        policies = dict(self._policies)
        policies.pop(name, None)
        self._policies = policies
        self.refused.pop(name, None)

    def replace_all(self, other: PolicySet) -> None:
        self._policies = dict(other._policies)
        self.refused = dict(other.refused)

    def load_or_keep(self, doc: Any, previous: PolicySet | None = None) -> list[Problem]:
        """load(), but a refused version keeps the last good one (from `previous`, else this set) in
        force and is remembered in `refused`, for the log and the metric."""
        problems = self.load(doc)
        metadata = doc.get("metadata") if isinstance(doc, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str) or not name:
            return problems
        if problems:
            self.refused[name] = str(problems[0])
            last_good = (previous if previous is not None else self)._policies.get(name)
            if last_good is not None:
                self.put(last_good)
        else:
            self.refused.pop(name, None)
        return problems

    def load(self, doc: Any) -> list[Problem]:
        """Parse, compile and add one WorkflowPolicy document; its problems when it is refused."""
        policy, problems = parse_policy(doc, self.cel)
        if policy is not None:
            self.put(policy)
        return problems

    def evaluate(
        self,
        *,
        kind: str,
        operation: str,
        namespace: str | None,
        obj: dict[str, Any],
        expanded: Expanded,
        containers: list[dict[str, Any]],
        request: dict[str, Any],
    ) -> Outcome:
        """`expanded`: the expanded object, or a function returning it (called only when a matching rule
        reads expanded, spec or templates); None: the object itself."""
        policies = self._policies  # one consistent snapshot
        metadata = obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        matching = sorted(
            (
                p
                for p in policies.values()
                if p.match.matches(
                    kind=kind,
                    operation=operation,
                    namespace=namespace,
                    labels=labels,
                    namespace_labels=self.namespace_labels,
                )
            ),
            key=lambda p: p.name,
        )
        outcome = Outcome()
        if not matching:
            return outcome
        pairs = [(policy, rule) for policy in matching for rule in policy.rules]
        reads = frozenset().union(*(_reads(r) for _, r in pairs))
        if callable(expanded):  # kept by the check cache: decoded only for the rules that read it
            expanded = expanded() if reads & {"expanded", "spec", "templates"} else None
        values = {
            "object": obj,
            "expanded": expanded if expanded is not None else obj,
            "containers": containers,
            "request": request,
        }
        if self.runner is None:
            results = evaluate_rules(self.cel, values, [(r.program, r.message_program) for _, r in pairs])
        else:
            # Only what the rules read crosses to the worker (spec and templates derive from expanded).
            if reads & {"spec", "templates"}:
                reads |= {"expanded"}
            sent = {name: value for name, value in values.items() if name in reads}
            try:
                # The cost budget checked here too, before the input is encoded and sent (a cheap walk that
                # stops at the budget); the worker checks it exactly (with spec and templates derived).
                if count_values(sent, self.runner.max_values) > self.runner.max_values:
                    raise PolicyStopped(over_budget(self.runner.max_values))
                results = self.runner.run(
                    sent, [(r.program.expression, _expression(r.message_program)) for _, r in pairs]
                )
            except PolicyStopped as exc:
                results = [("error", str(exc), None)] * len(pairs)
        for (policy, rule), result in zip(pairs, results, strict=True):
            violation = self._check(policy, rule, result)
            if violation is not None:
                outcome.violations.append(violation)
        return outcome

    @staticmethod
    def _check(policy: Policy, rule: Rule, result: RuleResult) -> Violation | None:
        status, value, message = result
        if status == "error":
            if policy.ignore_errors:
                return None
            return Violation(
                policy.name, rule.index, rule.action, f"rule {rule.index} {value}", rule.field_path, rule.name
            )
        if value is True:
            return None
        if value is not False:
            if policy.ignore_errors:
                return None
            text = f"rule {rule.index} must evaluate to a bool, got {value}"
            return Violation(policy.name, rule.index, rule.action, text, rule.field_path, rule.name)
        text = message or rule.message or f"failed expression: {one_line(rule.program.expression, 200)}"
        return Violation(policy.name, rule.index, rule.action, text, rule.field_path, rule.name)


# One rule's result: ("ok", True | False | the type name of a non-bool result, the messageExpression's text
# when the rule failed and it gave one) or ("error", the CelError's text, None). Plain data, so a worker
# process can send it back (webhook/policy/worker.py).
RuleResult = tuple[str, Any, str | None]


class PolicyStopped(Exception):
    """The evaluation was stopped (time or memory limit); str() says why, as a rule error would."""


class RuleRunner(Protocol):
    max_values: int  # the cost budget (MAX_VALUES)

    def run(self, values: dict[str, Any], rules: list[tuple[str, str | None]]) -> list[RuleResult]: ...

    def close(self) -> None: ...


def _reads(rule: Rule) -> frozenset[str]:
    return rule.program.variables | (rule.message_program.variables if rule.message_program else frozenset())


def _expression(program: Any) -> str | None:
    return None if program is None else program.expression


# The cost budget: how many JSON values (maps, lists, scalars) the rules' variables may hold. Converting
# them to CEL values costs time and memory in proportion: the Rust evaluator takes ~1.3 KB of memory
# per value (a 2.3 MiB review of 300,000 small objects: +400 MB; benchmarks/RESULTS.md). Over the
# budget the rules are not evaluated and count as errors (failurePolicy decides).
MAX_VALUES = 200_000


def count_values(value: Any, limit: int) -> int:
    """How many values `value` holds (keys count as values), counting no further than just past limit."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def over_budget(max_values: int) -> str:
    return f"not evaluated: its input holds over {max_values:,} values (the policy cost budget)"


def evaluate_rules(
    cel: Evaluator, values: dict[str, Any], rules: list[tuple[Any, Any]], max_values: int = MAX_VALUES
) -> list[RuleResult]:
    """Evaluate compiled (rule, messageExpression) programs on one request's variables (object, expanded,
    containers, request; spec and templates are derived from expanded when a program reads them)."""
    return list(iter_rule_results(cel, values, rules, max_values))


def iter_rule_results(
    cel: Evaluator, values: dict[str, Any], rules: list[tuple[Any, Any]], max_values: int = MAX_VALUES
) -> Iterator[RuleResult]:
    """evaluate_rules, one result at a time, as each rule is done (a worker process sends each at once,
    so that a rule stopped at the time limit is told apart from those done before it)."""
    expanded = values.get("expanded")
    derived = {
        **values,
        "spec": lambda: effective_spec(expanded),
        "templates": lambda: reachable_templates(expanded),
    }
    reads: frozenset[str] = frozenset()
    for program, message_program in rules:
        reads |= program.variables | (
            message_program.variables if message_program is not None else frozenset()
        )
    resolved, total = {}, 0
    for name in sorted(reads & derived.keys()):
        value = derived[name]
        resolved[name] = value() if callable(value) else value
        total += count_values(resolved[name], max_values - total)
        if total > max_values:
            yield from [("error", over_budget(max_values), None)] * len(rules)
            return
    needed = frozenset().union(*(program.variables for program, _ in rules)) if rules else frozenset()
    activation = cel.activation(resolved, needed)
    for program, message_program in rules:
        try:
            result = program.evaluate(activation)
        except CelError as exc:
            yield ("error", str(exc), None)
            continue
        message = None
        if result is False and message_program is not None:
            try:
                text = message_program.evaluate(activation)
                if isinstance(text, str) and text.strip():
                    message = one_line(text, 1000)
            except CelError:
                pass
        yield ("ok", result if isinstance(result, bool) else type(result).__name__, message)
