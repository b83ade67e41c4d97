"""Issue 14's errors that teach, as a user sees them: `sluice lint` and `sluice run` place every
problem at its file:line:col (golden outputs), and YAML syntax errors keep their context."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration import cli_support

REPO = cli_support.REPO

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

UNDEFINED = """step "hi": template name 'sya' undefined (did you mean 'say'?)"""


def sluice(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_support.sluice(tmp_path / "home", *args)


def test_lint_places_each_problem_at_its_line_and_column(tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_text(MISTAKES)
    result = sluice(tmp_path, "lint", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:5:1: Workflow/hello-: spec.entrypoint: spec.entrypoint is required",
        f'{path}:6:3: Workflow/hello-: spec.entrypont: unknown field "entrypont" (did you mean "entrypoint"?)',
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
        f"{flow}:5:9: invalid YAML: did not find expected ',' or ']'"
        " (while parsing a flow sequence at line 4, column 11)",
        f"{tab}:2:1: invalid YAML: a tab character: YAML indents with spaces, never tabs",
    ]
    run = sluice(tmp_path, "run", str(tab))
    assert run.returncode == 1
    assert (
        run.stderr
        == f"sluice run: {tab}:2:1: invalid YAML: a tab character: YAML indents with spaces, never tabs\n"
    )


GREET = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: greet
spec:
  arguments:
    parameters:
      - name: who
  templates:
    - name: hello
      inputs: {parameters: [{name: who, value: "{{workflow.parameters.who}}"}]}
      container: {image: busybox, command: [echo, "hello {{inputs.parameters.who}}"]}
"""


def test_a_workflow_template_file_runs_as_submit_from_would_and_hints_say_what_to_type(tmp_path):
    path = tmp_path / "greet.yaml"
    path.write_text(GREET)
    bare = sluice(tmp_path, "run", str(path))
    assert bare.returncode == 1
    assert bare.stderr.splitlines() == [
        'sluice run: running WorkflowTemplate "greet" as a Workflow (as argo submit --from workflowtemplate/greet)',
        f"sluice run: {path}: the workflow is not valid:",
        '  spec.arguments.parameters: parameter "who" of WorkflowTemplate "greet" has no value: set it in '
        "spec.arguments.parameters (give it with -p who=VALUE)",
        "  spec.entrypoint: spec.entrypoint is required (choose a template with --entrypoint NAME)",
    ]
    ran = sluice(tmp_path, "run", str(path), "--entrypoint", "hello", "-p", "who=you")
    assert ran.returncode == 0, ran.stderr
    assert any(line.endswith(": hello you") for line in ran.stdout.splitlines()), ran.stdout


def test_a_missing_parameter_and_a_missing_name_say_which_option_gives_them(tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_text(
        MISTAKES.replace("entrypont", "entrypoint")
        .replace("sya", "say")
        .replace("spec:\n", "spec:\n  arguments: {parameters: [{name: who}]}\n")
    )
    result = sluice(tmp_path, "run", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines()[1] == (
        f'  {path}:6:28: spec.arguments.parameters[0]: parameter "who": value or valueFrom is required'
        " (give it with -p who=VALUE)"
    )
    path.write_text(MISTAKES.replace("  generateName: hello-\n", "  labels: {a: b}\n"))
    result = sluice(tmp_path, "run", str(path))
    assert result.returncode == 1
    assert result.stderr == (
        "sluice run: the Workflow has neither metadata.name nor metadata.generateName: give it one with --name\n"
    )


def test_a_file_with_several_workflows_says_which_one_runs(tmp_path):
    one = MISTAKES.replace("entrypont", "entrypoint").replace("sya", "say")
    path = tmp_path / "two.yaml"
    path.write_text(one + "---\n" + one.replace("hello-", "second-"))
    result = sluice(tmp_path, "run", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"sluice run: {path} holds 2 Workflows: running the first, hello- (line 1); the others are ignored"
    )


def test_a_missing_file_is_exit_two_for_every_command_before_any_cluster_is_asked(tmp_path):
    missing = str(tmp_path / "missing.yaml")
    for command in (["run"], ["lint"], ["submit"], ["template", "lint"], ["cron", "lint"]):
        result = sluice(tmp_path, *command, missing)
        assert result.returncode == 2, command
        assert result.stderr == f"sluice {command[0]}: {missing}: no such file or directory\n", command
    policy = sluice(tmp_path, "policy", "test", missing, str(REPO / "examples" / "hello-world.yaml"))
    assert policy.returncode == 2
    assert policy.stderr == f"sluice policy: {missing}: no such file or directory\n"
    templates = sluice(tmp_path, "run", str(REPO / "examples" / "hello-world.yaml"), "--templates", missing)
    assert templates.returncode == 2 and not (tmp_path / "home").exists()


def test_lint_with_no_objects_says_so_and_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    result = sluice(tmp_path, "lint", str(tmp_path / "empty"))
    assert result.returncode == 1
    assert result.stderr == (
        f"sluice lint: no Argo objects (argoproj.io/*) or WorkflowPolicies found in {tmp_path / 'empty'}\n"
    )


def test_steps_output_goes_to_stdout_and_progress_to_stderr(tmp_path):
    hello = REPO / "examples" / "hello-world.yaml"
    plain = sluice(tmp_path, "run", str(hello), "--name", "piped")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[-1].startswith("piped: ") and "hello world" in plain.stdout
    assert "hello world" not in plain.stderr and plain.stderr.splitlines()[-1] == "workflow piped Succeeded"
    as_json = sluice(tmp_path, "run", str(hello), "--name", "piped-json", "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["status"]["phase"] == "Succeeded"  # stdout: only the object
    assert "hello world" in as_json.stderr
