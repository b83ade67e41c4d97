"""No false rejections: every Argo example passes `sluice lint` when linted together."""

from __future__ import annotations

import json
import subprocess
import sys


def test_all_argo_examples_lint_clean(argo_examples):
    result = subprocess.run(
        [sys.executable, "-m", "sluice", "lint", "-o", "json", str(argo_examples)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    entries = json.loads(result.stdout)
    kinds = {e["kind"] for e in entries}
    assert {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"} <= kinds
    assert sum(e["kind"] == "Workflow" for e in entries) > 150
    rejected = [
        f"{e['file']}: {e['kind']}/{e['name']}: {err['field']}: {err['message']}"
        for e in entries
        for err in e["errors"]
    ]
    assert not rejected, "\n".join(rejected)
    assert result.returncode == 0
