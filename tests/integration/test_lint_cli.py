"""`sluice lint` as a user runs it: a real process, real files, exit codes and output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HELLO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: busybox
        command: [echo, hello]
"""

TYPO = HELLO.replace("      container:", "      contianer:")

TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: shared
spec:
  templates:
    - name: say
      container:
        image: busybox
        command: [echo, shared]
"""

USES_TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: uses-ref
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: call
            templateRef: {name: shared, template: say}
"""


def lint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sluice", "lint", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def test_valid_workflow_exits_zero(tmp_path):
    result = lint(write(tmp_path, "hello.yaml", HELLO))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 object valid" in result.stderr
    assert result.stdout == ""


def test_unknown_field_is_reported_with_file_kind_name_and_path(tmp_path):
    path = write(tmp_path, "typo.yaml", TYPO)
    result = lint(path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(f"{path}:9:7: Workflow/hello-: spec.templates[0].contianer") for line in lines
    ), result.stdout


def test_json_output_has_one_entry_per_object(tmp_path):
    result = lint("-o", "json", write(tmp_path, "a.yaml", HELLO + "---\n" + TYPO))
    assert result.returncode == 1
    entries = json.loads(result.stdout)
    assert [(e["kind"], e["name"], bool(e["errors"])) for e in entries] == [
        ("Workflow", "hello-", False),
        ("Workflow", "hello-", True),
    ]
    assert set(entries[1]) == {"file", "kind", "name", "errors", "warnings"}
    assert {"field", "message", "line", "column"} == set(entries[1]["errors"][0])


def test_stdin(tmp_path):
    result = lint("-", stdin=HELLO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_references_resolve_across_files_in_a_directory(tmp_path):
    write(tmp_path, "templates/shared.yaml", TEMPLATE)
    write(tmp_path, "workflows/uses.yml", USES_TEMPLATE)
    write(tmp_path, "notes.txt", "not linted")
    assert lint(str(tmp_path)).returncode == 0
    # Without the template the reference cannot resolve, and lint says so.
    result = lint(str(tmp_path / "workflows"))
    assert result.returncode == 1
    assert "spec.templates[0].steps[0][0].templateRef" in result.stdout


def test_other_kinds_are_skipped_and_unhandled_argo_kinds_warn(tmp_path):
    other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n"
    binding = "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowEventBinding\nmetadata: {name: b}\nspec: {}\n"
    result = lint("-o", "json", write(tmp_path, "mixed.yaml", other + "---\n" + binding))
    assert result.returncode == 0
    entries = json.loads(result.stdout)
    assert [(e["kind"], e["name"]) for e in entries] == [("WorkflowEventBinding", "b")]
    assert "not checked by sluice yet" in entries[0]["warnings"][0]["message"]
    plain_json = write(tmp_path, "package.json", '{"name": "not kubernetes"}')
    nothing = lint(plain_json)  # issue 14: no objects is said, and is not a success
    assert nothing.returncode == 1
    assert (
        nothing.stderr
        == f"sluice lint: no Argo objects (argoproj.io/*) or WorkflowPolicies found in {plain_json}\n"
    )


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"a: b: c\n", "bad.yaml:1:5: invalid YAML: mapping values are not allowed"),
        (bytes(range(256)) * 16, "not UTF-8 text"),
        (b"[" * 1000 + b"]" * 1000, "nested deeper than"),
        (b"a: " + b"x" * (20 * 1024 * 1024), "over the 8,388,608-byte limit"),
    ],
    ids=["not-yaml", "binary", "deep", "20MB"],
)
def test_bad_files_get_one_line_and_exit_one(tmp_path, content, fragment):
    path = write(tmp_path, "bad.yaml", content)
    result = lint(path)
    assert result.returncode == 1
    assert result.stdout.strip().count("\n") == 0 and fragment in result.stdout
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_two(tmp_path):
    assert lint(str(tmp_path / "missing.yaml")).returncode == 2
    assert lint().returncode == 2


def test_lint_checks_workflow_policies_as_admission_does(tmp_path):
    """WorkflowPolicies are checked by the webhook's own parser (fields and CEL), with field paths."""
    bad = tmp_path / "bad-policy.yaml"
    bad.write_text(
        "apiVersion: sluice.dev/v1alpha1\nkind: WorkflowPolicy\nmetadata: {name: bad}\n"
        "spec:\n  rules:\n  - expression: 'object.spec.(('\n    message: x\n"
    )
    repo = Path(__file__).resolve().parents[2]
    good = subprocess.run(
        [sys.executable, "-m", "sluice", "lint", str(repo / "policies")],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=120,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    result = subprocess.run(
        [sys.executable, "-m", "sluice", "lint", str(bad)],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=120,
    )
    assert result.returncode == 1
    assert "WorkflowPolicy/bad: spec.rules[0].expression: does not compile" in result.stdout
