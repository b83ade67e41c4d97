"""Evaluating the loaded WorkflowPolicies against one admission request.

The set of policies is replaced as a whole (copy on write), so the informer can swap it on the event
loop while a worker thread evaluates: a request sees one consistent set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from webhook.policy.cel import CelError, Evaluator, one_line
from webhook.policy.model import Policy, Rule, parse_policy
from workflow.errors import Problem

_AUDIT_KEY_UNSAFE = re.compile(r"[^a-z0-9-]")


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
    *, operation: str, kind: str, namespace: str | None, name: str | None, user_info: dict[str, Any], dry_run: bool
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
    def __init__(self, cel: Evaluator, policies: Iterable[Policy] = (),
                 namespace_labels: Callable[[str], dict[str, str]] | None = None) -> None:
        self.cel = cel
        self._policies: dict[str, Policy] = {p.name: p for p in policies}
        # Labels of a namespace, for namespaceSelector (an informer in a cluster; none offline).
        self.namespace_labels = namespace_labels

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

    def replace_all(self, other: PolicySet) -> None:
        self._policies = dict(other._policies)

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
        expanded: dict[str, Any] | None,
        containers: list[dict[str, Any]],
        request: dict[str, Any],
    ) -> Outcome:
        policies = self._policies  # one consistent snapshot
        metadata = obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        matching = [
            p
            for p in policies.values()
            if p.match.matches(kind=kind, operation=operation, namespace=namespace, labels=labels,
                               namespace_labels=self.namespace_labels)
        ]
        outcome = Outcome()
        if not matching:
            return outcome
        full = expanded if expanded is not None else obj
        needed = frozenset().union(*(r.program.variables for p in matching for r in p.rules))
        activation = self.cel.activation(
            {
                "object": obj,
                "expanded": full,
                "containers": containers,
                "request": request,
                "spec": lambda: effective_spec(full),
                "templates": lambda: reachable_templates(full),
            },
            needed,
        )
        for policy in sorted(matching, key=lambda p: p.name):
            for rule in policy.rules:
                violation = self._check(policy, rule, activation)
                if violation is not None:
                    outcome.violations.append(violation)
        return outcome

    def _check(self, policy: Policy, rule: Rule, activation: Any) -> Violation | None:
        try:
            result = rule.program.evaluate(activation)
        except CelError as exc:
            if policy.ignore_errors:
                return None
            return Violation(policy.name, rule.index, rule.action, f"rule {rule.index} {exc}", rule.field_path,
                             rule.name)
        if result is True:
            return None
        if result is not False:
            if policy.ignore_errors:
                return None
            message = f"rule {rule.index} must evaluate to a bool, got {type(result).__name__}"
            return Violation(policy.name, rule.index, rule.action, message, rule.field_path, rule.name)
        return Violation(policy.name, rule.index, rule.action, self._message(rule, activation), rule.field_path,
                         rule.name)

    @staticmethod
    def _message(rule: Rule, activation: Any) -> str:
        if rule.message_program is not None:
            try:
                text = rule.message_program.evaluate(activation)
                if isinstance(text, str) and text.strip():
                    return one_line(text, 1000)
            except CelError:
                pass
        return rule.message or f"failed expression: {one_line(rule.program.expression, 200)}"
