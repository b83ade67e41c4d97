"""Issue 14's errors that teach, as golden outputs: where a problem is written (file:line:col from YAML
node marks) and YAML syntax errors that keep PyYAML's context and name a tab."""

from __future__ import annotations

from workflow.load import load_documents
from workflow.positions import locate

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
    - name: main
      contianer:
        image: busybox
    - name: other
      steps:
        - - name: a
            template: main
"""


def positions() -> dict[str, tuple[int, int]]:
    loaded = load_documents(WORKFLOW, marks=True)
    assert loaded.error is None
    return loaded.documents[0].positions


def test_a_field_is_placed_at_its_key_and_a_list_item_at_its_dash_content():
    at = positions()
    assert locate(at, "spec.templates[0].contianer") == (9, 7)
    assert locate(at, "spec.templates[1].steps[0][0].template") == (14, 13)
    assert locate(at, "spec.templates[1]") == (11, 7)
    assert locate(at, "metadata.generateName") == (4, 3)


def test_a_missing_field_is_placed_at_its_nearest_written_ancestor():
    at = positions()
    assert locate(at, "spec.templates[0].container.image") == (8, 7)
    assert locate(at, "spec.onExit") == (5, 1)
    assert locate(at, "metadata.labels[app]") == (3, 1)
    assert locate(at, "") == (1, 1)
    assert locate({}, "spec") is None


def test_marks_are_only_recorded_when_asked_for():
    assert load_documents(WORKFLOW).documents[0].positions == {}


def test_an_alias_is_walked_once():
    text = "a: &x {b: {c: 1}}\nd: *x\ne: *x\n"
    at = load_documents(text, marks=True).documents[0].positions
    assert at["a.b.c"] == (1, 12)
    assert "d.b" not in at and at["d"] == (2, 1)


def yaml_error(text: str) -> str:
    loaded = load_documents(text)
    assert loaded.documents == []
    return loaded.error


def test_a_tab_is_named_as_a_tab():
    assert yaml_error("a:\n\tb: 1\n") == (
        "invalid YAML at line 2, column 1: a tab character: YAML indents with spaces, never tabs"
    )


def test_a_syntax_error_keeps_what_the_parser_was_reading_and_from_where():
    text = "spec:\n  templates:\n  - name: x\n    args: [a, b\n  - name: y\n"
    assert yaml_error(text) == (
        "invalid YAML at line 5, column 9: did not find expected ',' or ']'"
        " (while parsing a flow sequence at line 4, column 11)"
    )


def test_an_error_without_a_separate_context_is_one_clause():
    assert (
        yaml_error("a: 1\n b: 2\n")
        == "invalid YAML at line 2, column 3: mapping values are not allowed in this context"
    )


def test_did_you_mean_the_closest_name_or_the_list_when_none_is_close():
    from workflow.suggest import did_you_mean

    assert (
        did_you_mean("entrypont", ["entrypoint", "templates", "arguments"]) == ' (did you mean "entrypoint"?)'
    )
    assert did_you_mean("sya", ["say", "main"], "'", True) == " (did you mean 'say'?)"
    assert did_you_mean("templateref", ["templateRef", "template"]) == ' (did you mean "templateRef"?)'
    assert did_you_mean("nope", ["main", "say"], "'", True) == " (available: main, say)"
    assert did_you_mean("nope", ["main", "say"]) == ""
    assert did_you_mean("nope", [f"t{i}" for i in range(20)], "'", True) == ""


def check_problems(text: str) -> list[str]:
    import yaml

    from workflow.check import check_object
    from workflow.resolve.sources import NoSource

    return [str(e) for e in check_object(yaml.safe_load(text), NoSource()).errors]


def test_golden_messages_for_typos_unknown_templates_and_enums():
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: mian
  templates:
  - name: main
    steps: [[{name: hi, template: sya}]]
  - name: say
    inputs:
      parameters: [{name: color, value: purple, enum: [red, green, blue]}]
    container: {image: busybox, comand: [echo]}
"""
    problems = check_problems(text)
    assert 'spec.templates[1].container.comand: unknown field "comand" (did you mean "command"?)' in problems
    fixed = text.replace("comand", "command")
    assert check_problems(fixed) == [
        "spec.entrypoint: the entrypoint: template name 'mian' undefined (did you mean 'main'?)",
        "spec.templates[0].steps[0][0].template: step \"hi\": template name 'sya' undefined (did you mean 'say'?)",
        'spec.templates[1].inputs.parameters[0].value: parameter "color": value should be present in enum list: '
        '"purple" is not one of red, green, blue',
    ]
    assert check_problems(fixed.replace("mian", "start"))[0] == (
        "spec.entrypoint: the entrypoint: template name 'start' undefined (available: main, say)"
    )


def test_an_image_pull_policy_the_api_server_would_refuse_is_refused_with_the_allowed_values():
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: pull-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: policy, value: Always}]}
  templates:
  - name: main
    steps: [[{name: a, template: set}, {name: b, template: script}]]
  - name: set
    containerSet:
      containers: [{name: main, image: busybox, command: [echo], imagePullPolicy: IfNotPresent},
                   {name: b, image: busybox, command: [echo], imagePullPolicy: Sometimes}]
  - name: script
    initContainers: [{name: i, image: busybox, command: [echo], imagePullPolicy: never}]
    sidecars: [{name: s, image: busybox, command: [echo], imagePullPolicy: "{{workflow.parameters.policy}}"}]
    script: {image: busybox, command: [sh], source: echo, imagePullPolicy: Maybe}
"""
    allowed = 'supported values: "Always", "IfNotPresent", "Never"'
    assert check_problems(text) == [
        f'spec.templates[1].containerSet.containers[1].imagePullPolicy: unsupported value: "Sometimes": {allowed}',
        f'spec.templates[2].initContainers[0].imagePullPolicy: unsupported value: "never": {allowed}',
        f'spec.templates[2].script.imagePullPolicy: unsupported value: "Maybe": {allowed}',
    ]
    for bad in ("Sometimes", "Maybe", "never"):
        text = text.replace(f"imagePullPolicy: {bad}", "imagePullPolicy: Never")
    assert check_problems(text) == []
    defaults = text.replace(
        "  templates:", "  templateDefaults: {container: {imagePullPolicy: Sometimes}}\n  templates:"
    )
    assert check_problems(defaults) == [
        f'spec.templateDefaults.container.imagePullPolicy: unsupported value: "Sometimes": {allowed}'
    ]


def test_a_syntax_errors_place_can_lead_the_line():
    from workflow.load import syntax_place

    assert syntax_place(yaml_error("a:\n\tb: 1\n")) == (
        2,
        1,
        "invalid YAML: a tab character: YAML indents with spaces, never tabs",
    )
    assert syntax_place(load_documents('{"a": 1,,}', json_only=True).error) == (
        1,
        9,
        "invalid JSON: Expecting property name enclosed in double quotes",
    )
    assert syntax_place("not UTF-8 text (invalid byte at offset 0)") is None
