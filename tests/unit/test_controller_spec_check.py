"""A new workflow is checked once (controller/spec_check.py): the controller checks it before its first
step and tells the engine (`Observed.checked`), whose first step then does not check it again
(workflow/engine/operate.py `_validate`). A workflow nobody checked, or a spec edited since the check,
is still checked. The API server is a stand-in that answers the few requests a reconcile makes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

import controller.spec_check
import workflow.engine.operate
from controller.reconciler import Controller
from workflow.engine import Observed, step

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 1, tzinfo=UTC)
WORKFLOW: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"namespace": "ns", "name": "wf", "uid": "u1", "resourceVersion": "1"},
    "spec": {
        "entrypoint": "main",
        "templates": [{"name": "main", "container": {"image": "alpine", "command": ["true"]}}],
    },
}
# the entrypoint names no template: the core's check refuses it
INVALID_SPEC = {**WORKFLOW["spec"], "entrypoint": "nowhere"}


class Rest:
    """Status writes succeed with the next resourceVersion; pods, events and label patches are taken."""

    def __init__(self) -> None:
        self.version = 1
        self.statuses: list[dict[str, Any]] = []
        self.created: list[str] = []

    async def replace(self, obj: dict[str, Any], subresource: str = "") -> dict[str, Any]:
        self.version += 1
        self.statuses.append(obj["status"])
        return {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.version)}}

    async def create(self, obj: dict[str, Any], namespace: str | None = None, **_: Any) -> dict[str, Any]:
        self.created.append(obj["kind"])
        return {}

    async def merge_patch(self, api_version: str, kind: str, ns: Any, name: str, patch: Any, **_: Any) -> Any:
        self.version += 1
        return {**WORKFLOW, "metadata": {**WORKFLOW["metadata"], "resourceVersion": str(self.version)}}


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Who ran the core's check: "controller" or "engine", once per call."""
    calls: list[str] = []
    for module, who in ((controller.spec_check, "controller"), (workflow.engine.operate, "engine")):
        real = module.check_object

        def counted(*args: Any, _real: Any = real, _who: str = who, **kwargs: Any) -> Any:
            calls.append(_who)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "check_object", counted)
    return calls


def controller_with(wf: dict[str, Any]) -> tuple[Controller, Rest]:
    rest = Rest()
    ctl = Controller(rest, executor_image="img", status_subresource="on")  # type: ignore[arg-type]
    ctl.now = lambda: NOW  # type: ignore[method-assign]
    ctl.workflows.objects[("ns", "wf")] = copy.deepcopy(wf)
    return ctl, rest


async def test_a_new_workflow_is_checked_once_by_the_controller_not_again_by_the_engine(checks) -> None:
    ctl, rest = controller_with(WORKFLOW)
    await ctl.reconcile("ns/wf")
    assert checks == ["controller"]
    assert rest.statuses[-1]["phase"] == "Running"
    assert "Pod" in rest.created


async def test_an_invalid_workflow_fails_on_the_controllers_check_alone(checks) -> None:
    ctl, rest = controller_with({**WORKFLOW, "spec": INVALID_SPEC})
    await ctl.reconcile("ns/wf")
    assert checks == ["controller"]
    assert rest.statuses[-1]["phase"] == "Failed"
    assert rest.statuses[-1]["message"].startswith("invalid spec:")
    assert "Pod" not in rest.created


async def test_a_spec_edited_after_its_check_is_checked_again(checks) -> None:
    ctl, rest = controller_with(WORKFLOW)
    key = "ns/wf"
    assert ctl.spec_checks.problems(key, WORKFLOW, None, ctl.templates) is None
    assert ctl.spec_checks.passed(key, WORKFLOW)
    # the same uid, a newer version whose spec is invalid, still not started
    edited = {**WORKFLOW, "metadata": {**WORKFLOW["metadata"], "resourceVersion": "9"}, "spec": INVALID_SPEC}
    assert not ctl.spec_checks.passed(key, edited)
    ctl.workflows.objects[("ns", "wf")] = edited
    await ctl.reconcile(key)
    assert checks == ["controller", "controller"]
    assert rest.statuses[-1]["phase"] == "Failed"


async def test_a_workflow_deleted_and_made_again_under_its_name_is_checked_again(checks) -> None:
    ctl, _ = controller_with(WORKFLOW)
    ctl.spec_checks.problems("ns/wf", WORKFLOW, None, ctl.templates)
    again = {**WORKFLOW, "metadata": {**WORKFLOW["metadata"], "uid": "u2"}}
    assert not ctl.spec_checks.passed("ns/wf", again)
    ctl._on_workflow("DELETED", WORKFLOW)
    assert not ctl.spec_checks.passed("ns/wf", WORKFLOW)


def test_the_engine_checks_a_workflow_nobody_told_it_was_checked(checks) -> None:
    invalid = {**WORKFLOW, "spec": INVALID_SPEC}
    decision = step(invalid, Observed(), NOW)
    assert checks == ["engine"]
    assert decision.status["phase"] == "Failed"
    assert decision.status["message"].startswith("invalid spec:")
    # told, it trusts the driver: the check is not run (a valid workflow then runs as before)
    checks.clear()
    assert step(WORKFLOW, Observed(checked=True), NOW).status["phase"] == "Running"
    assert checks == []
    assert step(WORKFLOW, Observed(), NOW).status == step(WORKFLOW, Observed(checked=True), NOW).status
