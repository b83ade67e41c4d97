"""Issue 14's wrong answers, as regression tests with the issue's inputs: what Argo accepts, Sluice accepts."""

from __future__ import annotations

import yaml

from workflow.check import check_object
from workflow.resolve.sources import NoSource

# The template Hera's `runner` constructor generates for a function without parameters.
HERA_RUNNER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: callable-script-}
spec:
  entrypoint: hello
  templates:
  - name: hello
    script:
      image: python:3.9
      source: '{{inputs.parameters}}'
      args: ["-m", "hera.workflows.runner", "-e", "examples.workflows.scripts.callable_script:hello"]
      command: [python]
"""

OUTPUT_ARTIFACT_WITH_A_TAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: artifact-name-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
        arguments: {parameters: [{name: variable, value: one}]}
  - name: gen
    inputs: {parameters: [{name: variable}]}
    container: {image: busybox, command: [sh, -c], args: ["echo hi > /tmp/out.txt"]}
    outputs:
      artifacts:
      - name: result-{{inputs.parameters.variable}}
        path: /tmp/out.txt
"""


def problems(text: str) -> list[tuple[str, str]]:
    report = check_object(yaml.safe_load(text), NoSource())
    return [(e.field, e.message) for e in report.errors]


def test_the_whole_input_list_resolves_in_a_template_without_inputs():
    assert problems(HERA_RUNNER) == []


def test_an_output_artifact_name_may_hold_an_input_tag():
    assert problems(OUTPUT_ARTIFACT_WITH_A_TAG) == []


def test_a_tag_in_an_artifact_name_must_still_resolve_and_the_rest_must_be_valid():
    unknown = OUTPUT_ARTIFACT_WITH_A_TAG.replace("variable}}", "nope}}")
    assert problems(unknown) == [
        (
            "spec.templates[1].outputs.artifacts[0].name",
            'failed to resolve {{inputs.parameters.nope}}: template "gen" declares no such input',
        )
    ]
    bad = OUTPUT_ARTIFACT_WITH_A_TAG.replace("result-{{", "result!{{")
    assert [field for field, _ in problems(bad)] == ["spec.templates[1].outputs.artifacts[0].name"]
    assert "'result!{{inputs.parameters.variable}}' is invalid" in problems(bad)[0][1]
