"""WorkflowPolicy parsing: every problem with its field path; matching; the offline `policy test`."""

from __future__ import annotations

from webhook.policy.cel import CelPython
from webhook.policy.model import parse_policy

CEL = CelPython()


def doc(spec, name="p"):
    return {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def fields(problems):
    return [p.field for p in problems]


def test_a_good_policy_compiles_with_defaults():
    policy, problems = parse_policy(doc({"validations": [{"expression": "true"}]}), CEL)
    assert problems == []
    assert policy.name == "p" and policy.rules[0].action == "Deny" and policy.ignore_errors is False
    assert policy.match.matches(kind="CronWorkflow", operation="UPDATE", namespace="x", labels=None)
    assert not policy.match.matches(kind="Pod", operation="CREATE", namespace="x", labels=None)


def test_every_problem_is_reported_with_its_path():
    bad = {
        "apiVersion": "sluice.dev/v1",
        "kind": "WorkflowPolicy",
        "metadata": {},
        "spec": {
            "failurePolicy": "Maybe",
            "extra": 1,
            "match": {
                "kinds": ["Workflow", "Pod"],
                "operations": ["DELETE"],
                "namespaces": "a",
                "objectSelector": {
                    "matchLabels": {"a": 1},
                    "matchExpressions": [{"key": "k", "operator": "In"}, {"key": "k", "operator": "Near"}],
                },
            },
            "validations": [
                {"expression": "1 +", "action": "Block", "message": 3, "whatever": True},
                "not a rule",
                {"expression": ""},
            ],
        },
    }
    policy, problems = parse_policy(bad, CEL)
    assert policy is None
    assert fields(problems) == [
        "apiVersion",
        "metadata.name",
        "spec.extra",
        "spec.failurePolicy",
        "spec.match.kinds[1]",
        "spec.match.operations[0]",
        "spec.match.namespaces",
        "spec.match.objectSelector.matchLabels.a",
        "spec.match.objectSelector.matchExpressions[0].values",
        "spec.match.objectSelector.matchExpressions[1].operator",
        "spec.validations[0].whatever",
        "spec.validations[0].action",
        "spec.validations[0].message",
        "spec.validations[0].expression",
        "spec.validations[1]",
        "spec.validations[2].expression",
    ]


def test_selectors():
    policy, problems = parse_policy(
        doc(
            {
                "match": {
                    "objectSelector": {
                        "matchLabels": {"tier": "prod"},
                        "matchExpressions": [
                            {"key": "team", "operator": "In", "values": ["a", "b"]},
                            {"key": "skip", "operator": "DoesNotExist"},
                            {"key": "owner", "operator": "Exists"},
                            {"key": "env", "operator": "NotIn", "values": ["dev"]},
                        ],
                    }
                },
                "validations": [{"expression": "false"}],
            }
        ),
        CEL,
    )
    assert problems == []
    m = policy.match

    def hits(labels):
        return m.matches(kind="Workflow", operation="CREATE", namespace="n", labels=labels)

    base = {"tier": "prod", "team": "a", "owner": "x"}
    assert hits(base)
    assert hits({**base, "env": "prod"})
    assert not hits({**base, "env": "dev"})
    assert not hits({**base, "skip": "1"})
    assert not hits({**base, "team": "c"})
    assert not hits({k: v for k, v in base.items() if k != "owner"})
    assert not hits(None)


def test_policy_test_command_reports_and_exits(tmp_path, capsys):
    from sluice.cli import main

    policy = tmp_path / "p.yaml"
    policy.write_text(
        "apiVersion: sluice.dev/v1alpha1\nkind: WorkflowPolicy\nmetadata: {name: bad}\n"
        "spec:\n  validations:\n  - expression: 'containers.all(c,'\n"
    )
    wf = tmp_path / "wf.yaml"
    wf.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec: {}\n")
    assert main(["policy", "test", str(policy), str(wf)]) == 1
    out = capsys.readouterr().out
    assert "policy refused: spec.validations[0].expression: does not compile" in out
    assert main(["policy", "test", str(tmp_path / "missing.yaml"), str(wf)]) == 2


def test_namespace_selector_rules_alias_and_rule_names():
    from webhook.policy.engine import PolicySet

    policy = doc(
        {
            "match": {"namespaceSelector": {"matchLabels": {"env": "prod"}}},
            "rules": [{"name": "never", "expression": "false", "message": "no"}],
        }
    )
    labels = {"prod-ns": {"env": "prod"}, "dev-ns": {"env": "dev"}}
    ps = PolicySet(CEL, namespace_labels=lambda ns: labels.get(ns, {}))
    assert ps.load(policy) == []

    def run(namespace):
        return ps.evaluate(
            kind="Workflow",
            operation="CREATE",
            namespace=namespace,
            obj={"metadata": {}},
            expanded=None,
            containers=[],
            request={},
        )

    assert [str(p) for p in run("prod-ns").denials] == ["policy p (never): no"]
    assert run("dev-ns").violations == [] and run("unknown").violations == [] and run(None).violations == []
    _, problems = parse_policy(
        doc({"rules": [{"expression": "true"}], "validations": [{"expression": "true"}]}), CEL
    )
    assert fields(problems) == ["spec.rules"]


def test_a_refused_version_keeps_the_last_good_one_in_force():
    """Issue 13 item 8 (the informer's path: webhook/cluster.py calls load_or_keep on each event)."""
    from webhook.policy.cel import CelPython
    from webhook.policy.engine import PolicySet

    def doc(expression):
        return {
            "apiVersion": "sluice.dev/v1alpha1",
            "kind": "WorkflowPolicy",
            "metadata": {"name": "p"},
            "spec": {"validations": [{"expression": expression}]},
        }

    ps = PolicySet(CelPython())
    assert ps.load_or_keep(doc("true")) == []
    assert ps.load_or_keep(doc("((")) != []
    assert ps.names == ["p"] and "p" in ps.refused
    assert ps._policies["p"].rules[0].program.expression == "true"
    fresh = PolicySet(ps.cel)  # a relist: the last good version comes from the set in force
    assert fresh.load_or_keep(doc("(("), previous=ps) != []
    assert fresh.names == ["p"]
    assert PolicySet(ps.cel).load_or_keep(doc("((")) != []  # never good: nothing to keep
    ps.remove("p")
    assert ps.names == [] and ps.refused == {}


def test_an_unknown_field_under_match_is_refused_not_ignored():
    # Issue 14: a typo'd `kind:` was ignored and the policy then applied to every kind.
    policy, problems = parse_policy(
        doc({"match": {"kind": ["CronWorkflow"]}, "validations": [{"expression": "true"}]}), CEL
    )
    assert policy is None
    assert [str(p) for p in problems] == ['spec.match.kind: unknown field (did you mean "kinds"?)']
    _, problems = parse_policy(doc({"valdations": [{"expression": "true"}]}), CEL)
    assert 'spec.valdations: unknown field (did you mean "validations"?)' in [str(p) for p in problems]


def test_a_rule_reading_an_absent_field_fails_in_cel_terms_with_both_evaluators():
    # Issue 14: the denial said "KeyError: nope"; it now says which key and that has() guards the read.
    from webhook.policy.cel import evaluator

    for name in ("cel-rust", "cel-python"):
        cel = evaluator(name)
        # the field read and the index read (cel-python said only "no such key" for the latter)
        for expression in ('object.spec.nope == "x"', "object.spec['nope'] == \"x\""):
            program = cel.compile(expression)
            activation = cel.activation({"object": {"spec": {}}}, program.variables)
            try:
                program.evaluate(activation)
            except Exception as exc:  # noqa: BLE001 (the type is asserted below)
                assert type(exc).__name__ == "CelError", name
                assert str(exc) == (
                    "evaluation failed: no such key: 'nope' (the object has no field 'nope' there: guard the "
                    "read with has(), as in has(parent.nope) && ...)"
                ), (name, expression)
            else:
                raise AssertionError(f"{name}: an absent field evaluated: {expression}")
        guarded = cel.compile('has(object.spec.nope) && object.spec.nope == "x"')
        assert guarded.evaluate(cel.activation({"object": {"spec": {}}}, guarded.variables)) is False
