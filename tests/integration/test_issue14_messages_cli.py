"""Issue 14's errors that teach, as a user sees them: `sluice lint` and `sluice run` place every
problem at its file:line:col (golden outputs), and YAML syntax errors keep their context."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MISTAKES = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypont: main
  templates:
    - name: main
      steps:
        - - name: hi
            template: sya
    - name: say
      container:
        image: busybox
        command: [echo, hello]
"""

UNDEFINED = """step "hi": template name 'sya' undefined"""


def sluice(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SLUICE_HOME=str(tmp_path / "home"))
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_lint_places_each_problem_at_its_line_and_column(tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_text(MISTAKES)
    result = sluice(tmp_path, "lint", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:5:1: Workflow/hello-: spec.entrypoint: spec.entrypoint is required",
        f'{path}:6:3: Workflow/hello-: spec.entrypont: unknown field "entrypont"',
        f"{path}:11:13: Workflow/hello-: spec.templates[0].steps[0][0].template: " + UNDEFINED,
    ]


def test_run_places_validation_errors_too(tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_text(MISTAKES.replace("entrypont", "entrypoint"))
    result = sluice(tmp_path, "run", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"sluice run: {path}: the workflow is not valid:",
        f"  {path}:11:13: spec.templates[0].steps[0][0].template: " + UNDEFINED,
    ]


def test_a_yaml_syntax_error_keeps_its_context_and_names_a_tab(tmp_path):
    flow = tmp_path / "flow.yaml"
    flow.write_text("spec:\n  templates:\n  - name: x\n    args: [a, b\n  - name: y\n")
    tab = tmp_path / "tab.yaml"
    tab.write_text("spec:\n\tentrypoint: main\n")
    result = sluice(tmp_path, "lint", str(flow), str(tab))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{flow}: invalid YAML at line 5, column 9: did not find expected ',' or ']'"
        " (while parsing a flow sequence at line 4, column 11)",
        f"{tab}: invalid YAML at line 2, column 1: a tab character: YAML indents with spaces, never tabs",
    ]
