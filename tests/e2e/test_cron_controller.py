"""The CronWorkflow loop against the real kube-apiserver: `sluice controller` runs on this host (confined
to the test namespace and an instance ID, tests/e2e/controller_support.py), two `* * * * *`
CronWorkflows run side by side for three schedule hits, and what the controller wrote is read back.

* Allow, children that finish at once: one child per minute, named `<cron>-<unix seconds of the hit>`,
  labelled and annotated as Argo does, counted in `status.succeeded`, the oldest deleted beyond
  `successfulJobsHistoryLimit`.
* Forbid, a child that runs 80 s: the next minute's hit is skipped (the child is still active), and
  the following child starts only after it finished.

The children suspend instead of running pods, so the test waits only for the schedule (about three
minutes), never for images or the kubelet.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from .controller_support import INSTANCE_LABEL, eventually, running_controller

LABEL_CRON = "workflows.argoproj.io/cron-workflow"
SLACK = 150  # seconds past a hit that a loaded machine may need to show it


@pytest.fixture
def controller(kubeconfig, namespace, tmp_path):
    instance = f"e2e-cron-{uuid.uuid4().hex[:6]}"
    with running_controller(kubeconfig, namespace, instance, tmp_path) as ctl:
        yield ctl, instance


def cron_workflow(name: str, instance: str, seconds: int, **spec) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": name, "labels": {INSTANCE_LABEL: instance}},
        "spec": {
            "schedules": ["* * * * *"],
            "workflowMetadata": {"labels": {"e2e": name}},
            "workflowSpec": {
                "entrypoint": "pause",
                "templates": [{"name": "pause", "suspend": {"duration": str(seconds)}}],
            },
            **spec,
        },
    }


def stamp(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_every_minute_one_child_and_forbid_skips_while_one_runs(kubectl, namespace, controller):
    ctl, instance = controller
    suffix = uuid.uuid4().hex[:4]
    allow, forbid = f"allow-{suffix}", f"forbid-{suffix}"
    crons = [
        cron_workflow(allow, instance, 1, successfulJobsHistoryLimit=2),
        cron_workflow(forbid, instance, 80, concurrencyPolicy="Forbid"),
    ]
    stamps = [
        stamp(
            json.loads(kubectl("create", "-n", namespace, "-o", "json", "-f", "-", input=json.dumps(c)))[
                "metadata"
            ]["creationTimestamp"]
        )
        for c in crons
    ]
    created = max(stamps)
    first = (created // 60 + 1) * 60  # the first hit after both exist
    seen: dict[str, dict[str, dict]] = {allow: {}, forbid: {}}  # every child ever listed, by cron

    def children(cron: str) -> dict[str, dict]:
        items = json.loads(
            kubectl("get", "workflows", "-n", namespace, "-l", f"{LABEL_CRON}={cron}", "-o", "json")
        )
        now = {wf["metadata"]["name"]: wf for wf in items["items"]}
        seen[cron].update(now)
        return now

    def get_cron(name: str) -> dict:
        return json.loads(kubectl("get", "cronworkflow", name, "-n", namespace, "-o", "json"))

    def forbid_ran_twice():
        children(allow)
        return len(children(forbid)) >= 2

    # The Forbid cron's second child comes at the third hit at the earliest: that is the end of the test.
    eventually(
        forbid_ran_twice, first + 120 + SLACK + 60 - created, 2, f"two children of {forbid} ({ctl.log_path})"
    )

    # Forbid: the hit a minute after the first is skipped while the 80 s child runs; the next one
    # starts once it has finished.
    names = sorted(seen[forbid])
    assert names[0] == f"{forbid}-{first}", names
    assert f"{forbid}-{first + 60}" not in seen[forbid], names
    one, two = (children(forbid).get(n) or seen[forbid][n] for n in names[:2])
    second_hit = int(names[1].rsplit("-", 1)[1])
    assert second_hit >= first + 120 and second_hit % 60 == 0
    finished = eventually(
        lambda: (get_wf_status(kubectl, namespace, names[0]) or {}).get("finishedAt"), 120, 1
    )
    assert stamp(finished) <= stamp(two["metadata"]["creationTimestamp"]), (one, two)
    status = get_cron(forbid)["status"]
    assert (
        status["lastScheduledTime"] == two["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"]
    )
    assert [r["name"] for r in status["active"]] == [names[1]]

    # Allow: one child per minute over the same hits, labelled and annotated as Argo does.
    def allow_done():
        status = get_cron(allow).get("status") or {}
        return status if status.get("succeeded", 0) >= 3 and len(children(allow)) == 2 else None

    status = eventually(allow_done, 120 + SLACK, 2, f"{allow} counted three children ({ctl.log_path})")
    expected = [f"{allow}-{first + 60 * i}" for i in range(3)]
    assert sorted(seen[allow])[:3] == expected
    assert sorted(children(allow)) == sorted(seen[allow])[-2:]  # successfulJobsHistoryLimit: 2
    child = seen[allow][expected[0]]
    assert child["metadata"]["labels"][LABEL_CRON] == allow and child["metadata"]["labels"]["e2e"] == allow
    assert child["metadata"]["labels"][INSTANCE_LABEL] == instance
    assert child["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"] == (
        datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    owner = child["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "CronWorkflow" and owner["name"] == allow
    assert status["phase"] == "Active" and status["failed"] == 0 and "conditions" not in status
    assert ctl.metric("argo_workflows_cronworkflows_triggered_total") >= 5
    assert ctl.metric("argo_workflows_cronworkflows_concurrencypolicy_triggered") >= 1
    kubectl("delete", "cronworkflow", allow, forbid, "-n", namespace, "--wait=false")


def get_wf_status(kubectl, namespace: str, name: str) -> dict | None:
    out = kubectl("get", "workflow", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out).get("status") if out else None
