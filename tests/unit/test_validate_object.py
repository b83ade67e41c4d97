"""check_object as a whole: every fault at once, in document order, lint leniency, and no traceback on
any input (property-based)."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.check import CheckOptions, check_object, check_objects
from workflow.resolve.sources import NoSource

SEVERAL_FAULTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: faults-}
spec:
  entrypoint: main
  podGC: {strategy: Eventually}
  arguments:
    parameters: [{name: who}]
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: msg, value: "{{steps.b.outputs.result}}"}]}
    - - name: b
        template: ehco
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {args: ["{{inputs.parameters.mgs}}"]}
  - name: graph
    dag:
      tasks:
      - {name: x, template: echo, depends: y, arguments: {parameters: [{name: msg, value: "1"}]}}
      - {name: y, template: echo, depends: x, arguments: {parameters: [{name: msg, value: "2"}]}}
  - name: main
    suspend: {}
"""


def test_a_workflow_with_several_faults_reports_all_of_them_in_path_order():
    report = check_object(yaml.safe_load(SEVERAL_FAULTS), NoSource())
    got = [(e.field, e.message) for e in report.errors]
    expected = [
        ("spec.arguments.parameters[0]", 'parameter "who": value or valueFrom is required'),
        ("spec.podGC.strategy", "podGC.strategy unknown strategy 'Eventually'"),
        ("spec.templates[0].steps[0][0].arguments.parameters[0].value", 'step "b" runs after this one'),
        ("spec.templates[0].steps[1][0].template", "template name 'ehco' undefined"),
        ("spec.templates[1].container.args[0]", "failed to resolve {{inputs.parameters.mgs}}"),
        ("spec.templates[1].container.image", "container.image may not be empty"),
        ("spec.templates[2].dag.tasks[0].depends", "tasks dependency cycle detected: x->y->x"),
        ("spec.templates[3].name", "template name 'main' is not unique"),
    ]
    assert len(got) == len(expected), got
    for (field, message), (want_field, fragment) in zip(got, expected, strict=True):
        assert field == want_field and fragment in message, (field, message)
    assert report.expanded is not None  # even an invalid object is expanded for policies and messages


def test_lint_lets_arguments_go_without_values_but_not_the_rest():
    report = check_object(yaml.safe_load(SEVERAL_FAULTS), NoSource(), CheckOptions(lint=True))
    fields = [e.field for e in report.errors]
    assert "spec.arguments.parameters[0]" not in fields and "spec.podGC.strategy" in fields


def test_a_valid_workflow_has_no_problems_and_its_expansion_is_the_document():
    doc = yaml.safe_load("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates: [{name: main, container: {image: busybox, command: [echo, hi]}}]
""")
    before = copy.deepcopy(doc)
    report = check_object(doc, NoSource())
    assert report.ok and not report.warnings and report.expanded == doc and doc == before
    assert (report.kind, report.name, report.namespace) == ("Workflow", "hello", None)


def test_objects_that_are_not_argos_are_skipped_and_argo_kinds_we_do_not_handle_warned():
    reports = check_objects(
        [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowEventBinding", "metadata": {"name": "b"}},
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTaskSet", "metadata": {"name": "s"}},
            "not an object",
        ]
    )
    assert [r.skipped for r in reports] == [True, True, True, True]
    assert not reports[0].errors and not reports[0].warnings
    assert "WorkflowEventBinding is not checked by sluice" in reports[1].warnings[0].message
    assert reports[2].warnings and not reports[2].errors
    assert reports[3].errors  # not even a mapping: said so, not raised


def test_the_wrong_api_version_is_an_error():
    report = check_object(
        {"apiVersion": "argoproj.io/v2", "kind": "Workflow", "metadata": {"name": "x"}, "spec": {}},
        NoSource(),
    )
    assert report.skipped or [e.field for e in report.errors] == ["apiVersion"]


# ---- no traceback, whatever the input ---------------------------------------------------------------


def test_non_finite_numbers_where_a_scalar_is_read_are_reported_never_raised():
    # YAML's .inf and .nan are floats that no integer conversion takes.
    for number in (float("inf"), float("-inf"), float("nan")):
        doc = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "x"},
            "spec": {
                "entrypoint": "main",
                "arguments": {"parameters": [{"name": "p", "value": number, "enum": [number]}]},
                "templates": [
                    {"name": "main", "suspend": {"duration": number}},
                    {
                        "name": "t",
                        "inputs": {"parameters": [{"name": "q", "value": "1", "enum": [number]}]},
                        "retryStrategy": {"backoff": {"duration": number}},
                        "container": {"image": "busybox"},
                    },
                ],
            },
        }
        report = check_object(doc, NoSource())
        assert not any("internal error" in p.message for p in report.errors), report.errors


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 600)
    | st.sampled_from(["", "x", "{{", "{{inputs.parameters.a}}", "{{= 1 +}}", "main", "a.Succeeded &&"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "template",
                    "templates",
                    "steps",
                    "dag",
                    "tasks",
                    "container",
                    "inputs",
                    "outputs",
                    "parameters",
                    "arguments",
                    "value",
                    "valueFrom",
                    "templateRef",
                    "depends",
                    "withItems",
                    "hooks",
                    "image",
                    "spec",
                    "entrypoint",
                    "artifacts",
                    "inline",
                    "when",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)

BASE = yaml.safe_load("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fuzz}
spec:
  entrypoint: main
  onExit: exit
  arguments: {parameters: [{name: p, value: v}]}
  templates:
  - name: main
    steps:
    - - {name: a, template: t, arguments: {parameters: [{name: x, value: "{{workflow.parameters.p}}"}]}}
    - - {name: b, templateRef: {name: lib, template: t}, withItems: [{k: 1}]}
  - name: t
    inputs: {parameters: [{name: x, default: d}], artifacts: [{name: in, path: /in, optional: true}]}
    container: {image: busybox, args: ["{{inputs.parameters.x}}"], volumeMounts: [{name: v, mountPath: /m}]}
    outputs: {parameters: [{name: o, valueFrom: {path: /o}, globalName: g}]}
  - name: exit
    dag:
      tasks:
      - {name: c, template: t}
      - {name: d, template: t, depends: c}
""")


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


PATHS = list(_paths(BASE))[1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=4))
def test_any_corruption_of_a_workflow_is_reported_never_raised(mutations):
    doc = copy.deepcopy(BASE)
    for path, value in mutations:
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    lib = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "lib"},
        "spec": copy.deepcopy(doc.get("spec")) if isinstance(doc, dict) else {},
    }
    for options in (CheckOptions(), CheckOptions(lint=True, template_referencing="Strict")):
        for report in check_objects([doc, lib], options):
            messages = [p.message for p in report.errors + report.warnings]
            assert not any("internal error" in m for m in messages), messages


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_any_json_as_a_spec_is_reported_never_raised(spec):
    for kind in ("Workflow", "WorkflowTemplate", "CronWorkflow"):
        doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
        report = check_object(doc, NoSource())
        assert not any("internal error" in p.message for p in report.errors)
