"""Variable scoping: what must resolve, and what must not.

Each valid case would be a false rejection if it failed; each invalid one names the position that cannot
see the variable. Cases are whole workflows, checked with check_object.
"""

from __future__ import annotations

import pytest
import yaml

from workflow.check import check_object, check_objects
from workflow.resolve.sources import NoSource


def check(text: str):
    return check_object(yaml.safe_load(text), NoSource())


def errors(text: str) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in check(text).errors]


SAY = """
  - name: say
    inputs: {parameters: [{name: m}]}
    container: {image: busybox, args: ["{{inputs.parameters.m}}"]}
  - name: gen
    script: {image: python:3, source: "print(1)"}
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}, globalName: shared}]}
"""


def wf(templates: str, spec: str = "") -> str:
    return f"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: wf, labels: {{team: a}}}}
spec:
  entrypoint: main
{spec}
  templates:
{templates}{SAY}"""


VALID = {
    "earlier step outputs, all kinds": """
  - name: main
    steps:
    - - {name: a, template: gen}
    - - name: b
        template: say
        arguments: {parameters: [{name: m, value: "{{steps.a.outputs.result}} {{steps.a.outputs.parameters.p}} {{steps.a.status}} {{steps.a.id}} {{steps.a.exitCode}}"}]}
""",
    "looped producer: aggregated outputs": """
  - name: main
    steps:
    - - {name: a, template: gen, withItems: [1, 2]}
    - - name: b
        template: say
        arguments: {parameters: [{name: m, value: "{{steps.a.outputs.parameters}} {{steps.a.outputs.result}}"}]}
""",
    "items of maps, lists and withParam": """
  - name: main
    steps:
    - - {name: a, template: say, withItems: [{x: 1, y: 2}], arguments: {parameters: [{name: m, value: "{{item.x}}{{item.y}}"}]}}
      - {name: b, template: say, withItems: [[1, 2]], arguments: {parameters: [{name: m, value: "{{item.[1]}}"}]}}
      - {name: c, template: say, withParam: "[1]", arguments: {parameters: [{name: m, value: "{{item.anything.goes}}"}]}}
      - {name: d, template: say, withSequence: {count: "3"}, arguments: {parameters: [{name: m, value: "{{item}}"}]}}
""",
    "dag ancestors through depends, transitively": """
  - name: main
    dag:
      tasks:
      - {name: a, template: gen}
      - {name: b, template: gen, depends: "a.Succeeded || a.Failed"}
      - name: c
        template: say
        depends: b
        arguments: {parameters: [{name: m, value: "{{tasks.a.outputs.result}} {{tasks.a.status}} {{tasks.b.outputs.parameters.p}}"}]}
""",
    "dag outputs see every task": """
  - name: main
    dag:
      tasks:
      - {name: a, template: gen}
      - {name: b, template: gen}
    outputs:
      parameters: [{name: out, valueFrom: {parameter: "{{tasks.b.outputs.parameters.p}}"}}]
""",
    "a task's own hooks see its own outputs": """
  - name: main
    dag:
      tasks:
      - name: a
        template: gen
        hooks:
          exit:
            template: say
            arguments: {parameters: [{name: m, value: "{{tasks.a.outputs.result}} {{tasks.a.status}}"}]}
""",
    "inline template in a loop reads the item": """
  - name: main
    steps:
    - - name: a
        withItems: [{v: 1}]
        inline:
          container: {image: busybox, args: ["{{item.v}} {{pod.name}}"]}
""",
    "globals: parameters, labels, global outputs, priority": """
  - name: main
    container: {image: busybox, args: ["{{workflow.parameters.p}} {{workflow.parameters.json}} {{workflow.labels.team}} {{workflow.outputs.parameters.shared}} {{workflow.priority}} {{workflow.creationTimestamp.Y}} {{workflow.name}} {{workflow.status}}"]}
""",
    "template locals: inputs, artifacts paths, retries": """
  - name: main
    retryStrategy: {limit: 2}
    inputs:
      parameters: [{name: a, value: x}]
      artifacts: [{name: src, path: /src, raw: {data: x}}]
    container: {image: busybox, args: ["{{inputs.parameters}} {{inputs.parameters.a}} {{inputs.artifacts.src.path}} {{retries}} {{lastRetry.exitCode}} {{outputs.parameters.o.path}}"]}
    outputs: {parameters: [{name: o, valueFrom: {path: /tmp/o}}]}
""",
    "unchecked prefixes and expression tags pass": """
  - name: main
    container: {image: busybox, args: ["{{foo}} {{= sprig.upper(inputs.parameters.anything) }}"]}
""",
}


@pytest.mark.parametrize("templates", VALID.values(), ids=VALID.keys())
def test_valid_references_resolve(templates):
    spec = "  priority: 3\n  arguments: {parameters: [{name: p, value: v}]}"
    assert errors(wf(templates, spec)) == []


def test_the_exit_handler_sees_workflow_failures_and_only_it():
    text = wf(
        """
  - name: main
    container: {image: busybox}
  - name: report
    container: {image: busybox, args: ["{{workflow.status}} {{workflow.failures}}"]}
  - name: other
    container: {image: busybox, args: ["{{workflow.failures}}"]}
""",
        spec="  onExit: report",
    )
    assert errors(text) == [
        (
            "spec.templates[2].container.args[0]",
            "failed to resolve {{workflow.failures}}: workflow.failures is only set in the exit handler",
        ),
    ]


def test_a_workflow_template_alone_may_use_parameters_its_workflow_brings():
    text = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  templates:
  - name: t
    container: {image: busybox, args: ["{{workflow.parameters.whatever}}", "{{steps.x.id}}"]}
"""
    assert errors(text) == [
        (
            "spec.templates[0].container.args[1]",
            "failed to resolve {{steps.x.id}}: steps.* can only be used inside a steps template",
        ),
    ]


def test_workflow_parameters_of_a_referenced_template_are_in_scope():
    docs = list(
        yaml.safe_load_all("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: x-}
spec:
  workflowTemplateRef: {name: base}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: base}
spec:
  entrypoint: main
  arguments: {parameters: [{name: msg, value: hi}]}
  workflowMetadata: {labels: {owner: me}}
  templates:
  - name: main
    container: {image: busybox, args: ["{{workflow.parameters.msg}} {{workflow.labels.owner}}"]}
""")
    )
    assert [r.errors for r in check_objects(docs)] == [[], []]


def test_dag_tasks_that_are_not_ancestors_are_invisible_with_the_reason():
    text = wf("""
  - name: main
    dag:
      tasks:
      - {name: a, template: gen}
      - {name: b, template: gen}
      - {name: c, template: say, depends: a, arguments: {parameters: [{name: m, value: "{{tasks.b.status}}"}]}}
""")
    assert errors(text) == [
        (
            "spec.templates[0].dag.tasks[2].arguments.parameters[0].value",
            'failed to resolve {{tasks.b.status}}: missing dependency \'b\': task "b" is not an ancestor of task "c" '
            "(add it to depends or dependencies)",
        )
    ]


def test_a_step_cannot_use_its_own_outputs_outside_its_hooks():
    text = wf("""
  - name: main
    steps:
    - - {name: a, template: say, arguments: {parameters: [{name: m, value: "{{steps.a.outputs.result}}"}]}}
""")
    assert errors(text) == [
        (
            "spec.templates[0].steps[0][0].arguments.parameters[0].value",
            "failed to resolve {{steps.a.outputs.result}}: a step or task can only use its own outputs in its hooks",
        )
    ]


def test_a_producer_of_unknown_template_is_not_second_guessed():
    text = wf(
        """
  - name: main
    steps:
    - - {name: a, templateRef: {name: "{{workflow.parameters.lib}}", template: t}}
    - - {name: b, template: say, arguments: {parameters: [{name: m, value: "{{steps.a.outputs.parameters.whatever}}"}]}}
""",
        spec="  arguments: {parameters: [{name: lib, value: x}]}",
    )
    assert errors(text) == []


def test_expression_tags_reading_names_that_cannot_exist_are_warned_not_rejected():
    text = wf("""
  - name: main
    steps:
    - - {name: a, template: gen}
    - - name: b
        template: say
        arguments:
          parameters:
          - name: m
            value: "{{= steps.a.outputs.result + steps['later'].outputs.result + workflow.parameters.nope }}"
    - - {name: later, template: gen}
""")
    report = check(text)
    assert report.errors == []
    assert sorted(w.message.split(",")[0] for w in report.warnings) == [
        "expression reads steps.later.outputs.result",
        "expression reads workflow.parameters.nope",
    ]
    assert {w.field for w in report.warnings} == {
        "spec.templates[0].steps[1][0].arguments.parameters[0].value"
    }
