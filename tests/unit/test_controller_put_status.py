"""controller/status_write.py `put_status`: a 404 from the status subresource switches to whole-object
writes only when the workflow is there (Argo-shaped CRDs); a workflow deleted meanwhile raises its 404
and leaves the mode alone (a whole-object write with the subresource on would drop the status)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.reconciler import Controller
from controller.status_write import put_status
from kube.rest import ApiError

pytestmark = pytest.mark.unit

BODY = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"namespace": "ns", "name": "wf", "resourceVersion": "3"},
    "status": {"phase": "Running"},
}


class Rest:
    """The two answers that matter: /status 404s; the object itself is there or not."""

    def __init__(self, exists: bool) -> None:
        self.exists = exists
        self.calls: list[str] = []

    async def replace(self, obj: dict[str, Any], subresource: str = "") -> dict[str, Any]:
        self.calls.append(f"PUT {subresource or 'object'}")
        if subresource == "status" or not self.exists:
            raise ApiError(404, "NotFound", "not found")
        return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "4"}}

    async def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        self.calls.append("GET")
        if not self.exists:
            raise ApiError(404, "NotFound", f'workflows.argoproj.io "{name}" not found')
        return BODY


async def test_without_a_status_subresource_whole_objects_are_written_from_then_on() -> None:
    rest = Rest(exists=True)
    ctl = Controller(rest, executor_image="img")  # type: ignore[arg-type]
    written = await put_status(ctl, BODY)
    assert written["metadata"]["resourceVersion"] == "4"
    assert ctl.status_subresource == "off"
    assert rest.calls == ["PUT status", "GET", "PUT object"]
    rest.calls.clear()
    await put_status(ctl, BODY)
    assert rest.calls == ["PUT object"]


async def test_a_deleted_workflow_raises_and_keeps_the_status_subresource() -> None:
    rest = Rest(exists=False)
    ctl = Controller(rest, executor_image="img")  # type: ignore[arg-type]
    with pytest.raises(ApiError) as gone:
        await put_status(ctl, BODY)
    assert gone.value.status == 404
    assert ctl.status_subresource == "auto"
    assert rest.calls == ["PUT status", "GET"]


async def test_with_the_subresource_declared_on_a_404_is_raised_at_once() -> None:
    rest = Rest(exists=True)
    ctl = Controller(rest, executor_image="img", status_subresource="on")  # type: ignore[arg-type]
    with pytest.raises(ApiError):
        await put_status(ctl, BODY)
    assert rest.calls == ["PUT status"] and ctl.status_subresource == "on"
