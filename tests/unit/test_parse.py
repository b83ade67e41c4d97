"""parse_object: every problem with its field path, AnyString, int-or-string, kinds and status."""

from __future__ import annotations

import copy

import pytest

from workflow.parse import Parsed, parse_object, parse_workflow_status, to_dict
from workflow.types import NodeStatus, Parameter, Workflow


def workflow(**spec):
    base = {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}
    base.update(spec)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "x-", "namespace": "ns"},
        "spec": base,
    }


def with_template(**fields):
    return workflow(templates=[{"name": "main", **fields}])


def messages(parsed: Parsed) -> list[str]:
    return [str(p) for p in parsed.errors]


BAD = [
    pytest.param(
        with_template(contianer={"image": "busybox"}),
        ['spec.templates[0].contianer: unknown field "contianer" (did you mean "container"?)'],
        id="typo-in-template-field",
    ),
    pytest.param(workflow(parallelism="abc"), ['spec.parallelism: expected an integer, got "abc"'], id="int"),
    pytest.param(
        workflow(parallelism=True), ["spec.parallelism: expected an integer, got true"], id="bool-int"
    ),
    pytest.param(workflow(suspend="yes"), ['spec.suspend: expected a boolean, got "yes"'], id="bool"),
    pytest.param(
        workflow(templates={"name": "main"}), ["spec.templates: expected a list, got an object"], id="list"
    ),
    pytest.param(workflow(entrypoint=["a"]), ["spec.entrypoint: expected a string, got a list"], id="str"),
    pytest.param(
        workflow(nodeSelector={"disk": 1}),
        ["spec.nodeSelector[disk]: expected a string, got 1"],
        id="map-value",
    ),
    pytest.param(
        with_template(retryStrategy={"limit": 1.5}),
        ["spec.templates[0].retryStrategy.limit: expected an integer or a string, got 1.5"],
        id="int-or-string",
    ),
    pytest.param(
        workflow(arguments={"parameters": [{"value": "x"}]}),
        ["spec.arguments.parameters[0].name: required field is missing"],
        id="required",
    ),
    pytest.param(
        workflow(arguments={"parameters": [{"name": "p", "value": {"a": 1}}]}),
        ["spec.arguments.parameters[0].value: expected a string, number or boolean, got an object"],
        id="any-string-object",
    ),
    pytest.param(
        with_template(plugin={"a": {}, "b": {}}),
        ["spec.templates[0].plugin: expected exactly one key, got 2"],
        id="plugin-two-keys",
    ),
    pytest.param(
        with_template(plugin="hello"),
        ['spec.templates[0].plugin: expected an object, got "hello"'],
        id="plugin-not-object",
    ),
    pytest.param(
        with_template(steps=[[{"name": "a", "template": "b", "withSequence": {"count": [1]}}]]),
        ["spec.templates[0].steps[0][0].withSequence.count: expected an integer or a string, got a list"],
        id="nested-step",
    ),
    pytest.param(
        with_template(steps=[{"name": "a"}]),
        ["spec.templates[0].steps[0]: expected a list, got an object"],
        id="steps-list-of-lists",
    ),
    pytest.param(
        with_template(dag={"tasks": [{"name": "a", "inline": {"suspend": {}, "contianer": {}}}]}),
        [
            'spec.templates[0].dag.tasks[0].inline.contianer: unknown field "contianer" (did you mean "container"?)'
        ],
        id="inline-template",
    ),
    pytest.param(
        {**workflow(), "metadata": {"name": "x", "lables": {}}},
        ['metadata.lables: unknown field "lables" (did you mean "labels"?)'],
        id="metadata",
    ),
    pytest.param(
        {**workflow(), "spce": {}},
        ['spce: unknown field "spce" (did you mean "spec"?)'],
        id="top-level",
    ),
    pytest.param(
        {**workflow(), "status": {"nodes": {"n1": {"id": "n1", "name": "n", "type": "Pod", "phase": 3}}}},
        ["status.nodes[n1].phase: expected a string, got 3"],
        id="status-node",
    ),
    pytest.param(
        {**workflow(), "apiVersion": "argoproj.io/v1"},
        ['apiVersion: expected "argoproj.io/v1alpha1", got "argoproj.io/v1"'],
        id="api-version",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), BAD)
def test_bad_input_reports_the_path_and_the_message(doc, expected):
    parsed = parse_object(doc)
    assert messages(parsed) == expected
    assert parsed.obj is None


def test_every_problem_is_reported_not_only_the_first():
    doc = workflow(
        parallelism="abc",
        onExit=3,
        templates=[
            {"name": "main", "contianer": {}, "timeout": 5},
            {"name": "b", "script": {"image": "x", "source": "y"}, "daemon": "no"},
        ],
    )
    # In document order.
    assert messages(parse_object(doc)) == [
        'spec.templates[0].contianer: unknown field "contianer" (did you mean "container"?)',
        "spec.templates[0].timeout: expected a string, got 5",
        'spec.templates[1].daemon: expected a boolean, got "no"',
        'spec.parallelism: expected an integer, got "abc"',
        "spec.onExit: expected a string, got 3",
    ]


@pytest.mark.parametrize("doc", [None, [], "kind: Workflow", 3, True])
def test_a_document_that_is_not_a_mapping_is_one_clear_error(doc):
    parsed = parse_object(doc)
    assert parsed.obj is None
    assert len(parsed.errors) == 1
    assert parsed.errors[0].message.startswith("expected an object (a mapping), got ")


@pytest.mark.parametrize(
    "doc",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowEventBinding", "metadata": {"name": "e"}},
        {"kind": "Workflow"},  # no apiVersion: not recognisably Argo's
        {"apiVersion": "example.com/v1", "kind": "Workflow"},
    ],
)
def test_other_kinds_are_returned_unparsed_without_errors(doc):
    parsed = parse_object(doc)
    assert parsed.kind == doc.get("kind")
    assert parsed.obj is None
    assert parsed.errors == [] and parsed.warnings == []


def test_identity_is_read_even_when_the_body_is_bad():
    doc = {**workflow(parallelism="x"), "metadata": {"name": "wf", "namespace": "team"}}
    parsed = parse_object(doc)
    assert (parsed.kind, parsed.api_version, parsed.name, parsed.namespace) == (
        "Workflow",
        "argoproj.io/v1alpha1",
        "wf",
        "team",
    )
    assert parsed.errors


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (1.5, "1.5"),
        (2.0, "2"),
        (-7, "-7"),
        ("abc", "abc"),
        # strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never exponent notation
        (1e21, "1000000000000000000000"),
        (1e-07, "0.0000001"),
        (1.2345e-05, "0.000012345"),
        (12345678901234567891, "12345678901234567000"),  # through float64, as Go's decoder does
    ],
)
def test_any_string_values_are_kept_as_argo_renders_them(given, stored):
    doc = workflow(
        arguments={
            "parameters": [
                {"name": "p", "value": given, "default": given, "enum": [given], "description": given},
                {"name": "q", "valueFrom": {"default": given, "configMapKeyRef": {"name": "c", "key": "k"}}},
            ]
        }
    )
    parsed = parse_object(doc)
    assert parsed.errors == []
    p, q = parsed.obj.spec.arguments.parameters
    assert (p.value, p.default, p.enum, p.description, q.value_from.default) == (
        stored,
        stored,
        [stored],
        stored,
        stored,
    )
    assert isinstance(p.value, str)
    assert to_dict(p)["value"] == stored and type(to_dict(p)["value"]) is str


@pytest.mark.parametrize("value", [3, "3", "{{inputs.parameters.n}}"])
def test_int_or_string_fields_keep_what_was_given(value):
    doc = with_template(
        activeDeadlineSeconds=value,
        retryStrategy={"limit": value, "backoff": {"duration": "1s", "factor": value}},
        steps=[[{"name": "a", "template": "b", "withSequence": {"count": value, "start": value}}]],
    )
    parsed = parse_object(doc)
    assert parsed.errors == []
    template = parsed.obj.spec.templates[0]
    seq = template.steps[0][0].with_sequence
    got = [
        template.active_deadline_seconds,
        template.retry_strategy.limit,
        template.retry_strategy.backoff.factor,
    ]
    assert got + [seq.count, seq.start] == [value] * 5
    assert to_dict(parsed.obj) == doc


def test_with_items_take_any_json():
    items = ["a", 1, 2.5, True, None, ["x", 1], {"k": {"nested": [1]}}]
    doc = with_template(steps=[[{"name": "a", "template": "b", "withItems": items}]])
    parsed = parse_object(doc)
    assert parsed.errors == []
    assert parsed.obj.spec.templates[0].steps[0][0].with_items == items


def test_parsing_does_not_modify_the_input():
    doc = workflow(arguments={"parameters": [{"name": "p", "value": 3}]})
    before = copy.deepcopy(doc)
    parse_object(doc)
    assert doc == before


def test_field_names_are_argos_json_names():
    doc = with_template(
        podSpecPatch="{}",
        inputs={"artifacts": [{"name": "a", "from": "{{x}}", "artifactGC": {"strategy": "Never"}}]},
    )
    doc["spec"]["podGC"] = {"strategy": "OnPodSuccess"}
    doc["spec"]["ttlStrategy"] = {"secondsAfterCompletion": 10}
    doc["spec"]["volumeClaimGC"] = {"strategy": "OnWorkflowSuccess"}
    doc["spec"]["artifactGC"] = {"strategy": "OnWorkflowDeletion", "forceFinalizerRemoval": True}
    doc["spec"]["dnsConfig"] = {"nameservers": ["1.1.1.1"]}
    parsed = parse_object(doc)
    assert parsed.errors == []
    spec = parsed.obj.spec
    assert spec.pod_gc.strategy == "OnPodSuccess"
    assert spec.volume_claim_gc.strategy == "OnWorkflowSuccess"
    assert spec.artifact_gc.force_finalizer_removal is True
    assert spec.templates[0].inputs.artifacts[0].from_ == "{{x}}"
    assert spec.templates[0].inputs.artifacts[0].artifact_gc.strategy == "Never"
    assert to_dict(parsed.obj) == doc


def test_a_status_with_nodes_parses_into_typed_nodes():
    node = {
        "id": "wf-1",
        "name": "wf[0].a",
        "displayName": "a",
        "type": "Pod",
        "phase": "Succeeded",
        "boundaryID": "wf",
        "podIP": "10.0.0.1",
        "restartingPodUID": "u",
        "startedAt": "2024-01-01T00:00:00Z",
        "finishedAt": "2024-01-01T00:00:05Z",
        "resourcesDuration": {"cpu": 1, "memory": 2},
        "outputs": {"parameters": [{"name": "o", "value": "1"}], "exitCode": "0"},
        "children": ["wf-2"],
        "nodeFlag": {"retried": True},
        "taskResultSynced": True,
    }
    status = {"phase": "Succeeded", "progress": "1/1", "nodes": {"wf-1": node}}
    parsed = parse_workflow_status(status)
    assert parsed.errors == []
    got = parsed.obj.nodes["wf-1"]
    assert isinstance(got, NodeStatus)
    assert (got.boundary_id, got.pod_ip, got.restarting_pod_uid) == ("wf", "10.0.0.1", "u")
    assert to_dict(parsed.obj) == status


def test_status_problems_have_status_paths():
    parsed = parse_workflow_status({"nodes": {"n": {"id": "n", "type": "Pod"}}, "phase": 1})
    assert messages(parsed) == [
        "status.nodes[n].name: required field is missing",
        "status.phase: expected a string, got 1",
    ]


def test_null_times_written_by_argo_parse_as_absent():
    status = {"nodes": {"n": {"id": "n", "name": "n", "type": "Pod", "finishedAt": None}}, "finishedAt": None}
    parsed = parse_workflow_status(status)
    assert parsed.errors == []
    assert parsed.obj.finished_at is None and parsed.obj.nodes["n"].finished_at is None


def test_typed_objects_encode_back_with_parameters_as_strings():
    wf = Workflow(api_version="argoproj.io/v1alpha1", kind="Workflow")
    assert to_dict(wf) == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}
    assert to_dict(Parameter(name="p", value="x")) == {"name": "p", "value": "x"}


def test_timestamps_a_yaml_loader_resolved_are_read_back_as_text():
    import yaml

    doc = yaml.safe_load(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w, creationTimestamp: 2024-01-01T00:00:00Z}
spec:
  entrypoint: m
  arguments: {parameters: [{name: day, value: 2024-05-01}]}
  templates: [{name: m, suspend: {}}]
status: {startedAt: 2024-01-01T10:00:00+02:00}
"""
    )
    parsed = parse_object(doc)
    assert parsed.errors == []
    assert parsed.obj.metadata.creation_timestamp == "2024-01-01T00:00:00Z"
    assert parsed.obj.spec.arguments.parameters[0].value == "2024-05-01"
    assert parsed.obj.status.started_at == "2024-01-01T10:00:00+02:00"


def test_a_timestamp_where_an_object_belongs_is_still_an_error():
    import datetime

    parsed = parse_object(workflow(ttlStrategy=datetime.date(2024, 1, 1)))
    assert messages(parsed) == ["spec.ttlStrategy: expected an object, got date"]
