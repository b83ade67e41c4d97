"""`..` in artifact keys is an error and in an output parameter's path a warning, each on its field
(issue 13 item 5: `sluice lint` called the runner's escapes valid)."""

from __future__ import annotations

import yaml

from workflow.check import CheckOptions, check_object
from workflow.resolve.sources import NoSource

DOC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: keys}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: ["true"]}
    inputs:
      artifacts:
      - {name: i, path: /tmp/i, s3: {key: "a/../../b"}}
      - {name: fine, path: /tmp/f, s3: {key: "a/b..c/{{workflow.name}}"}}
    outputs:
      parameters:
      - {name: p, valueFrom: {path: /tmp/../etc/shadow}}
      artifacts:
      - {name: o, path: /tmp/o, azure: {blob: "../up"}}
"""


def test_dotdot_keys_are_errors_and_dotdot_parameter_paths_warnings():
    report = check_object(yaml.safe_load(DOC), NoSource(), CheckOptions())
    errors = {p.field: p.message for p in report.errors}
    assert "'..'" in errors["spec.templates[0].inputs.artifacts[0].s3.key"]
    assert "'..'" in errors["spec.templates[0].outputs.artifacts[0].azure.blob"]
    assert not any("artifacts[1]" in path for path in errors)  # `..` inside a segment is a name, not a climb
    warnings = {p.field: p.message for p in report.warnings}
    assert "contains '..'" in warnings["spec.templates[0].outputs.parameters[0].valueFrom.path"]
