"""`sluice cron` and `submit --from cronwf/NAME` against the real kube-apiserver (sluice/commands/cron.py)."""

from __future__ import annotations

import yaml

from .support import INSTANCE, get


def test_cron_verbs(sluice, kubectl, ns, tmp_path):
    path = tmp_path / "cron.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "CronWorkflow",
                "metadata": {"name": "nightly"},
                "spec": {
                    "schedules": ["0 2 * * *"],
                    "timezone": "Europe/London",
                    "workflowMetadata": {"labels": {"workflows.argoproj.io/controller-instanceid": INSTANCE}},
                    "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
                },
            }
        )
    )
    assert sluice("cron", "create", str(path)).returncode == 0
    listed = sluice("cron", "list").stdout.splitlines()
    assert listed[0].split() == [
        "NAME",
        "AGE",
        "LAST",
        "RUN",
        "NEXT",
        "RUN",
        "SCHEDULES",
        "TIMEZONE",
        "SUSPENDED",
    ]
    assert listed[1].startswith("nightly ") and listed[1].endswith("0 2 * * *   Europe/London   false")
    assert sluice("cron", "suspend", "nightly").returncode == 0
    assert get(kubectl, ns, "nightly", "cronworkflow")["spec"]["suspend"] is True
    assert sluice("cron", "resume", "nightly").returncode == 0
    assert "suspend" not in get(kubectl, ns, "nightly", "cronworkflow")["spec"]
    submitted = sluice("submit", "--from", "cronwf/nightly", "-o", "name")
    assert submitted.returncode == 0, submitted.stderr
    child = get(kubectl, ns, submitted.stdout.strip())
    assert child["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"] == "nightly"
    assert child["metadata"]["ownerReferences"][0]["kind"] == "CronWorkflow"
    assert sluice("cron", "delete", "nightly").returncode == 0
    assert sluice("cron", "get", "nightly").returncode == 3
