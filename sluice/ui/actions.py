"""The UI's actions (resume an approval gate, stop, terminate, retry, resubmit): the CLI's own code.

On a cluster each action is the verb of sluice/commands/ (control.py `resume_cluster`, `patch_spec`;
retry.py `retry`, `resubmit`), offered only where a SelfSubjectAccessReview says the user's RBAC allows
what that verb sends. On local runs: resume / stop a suspend node through sluice/commands/resume.py
`run_local` (a request file the runner picks up), stop the whole run as Ctrl-C would (SIGINT to the
`sluice run` process, whose first interrupt is `spec.shutdown: Stop`); retry, resubmit and terminate
are cluster verbs.

The CLI's verbs print their outcome; it is captured and returned as the action's message (one action
at a time: stdout is process-wide).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import signal
from typing import Any

from sluice.output import DONE, phase
from sluice.ui.sources import ClusterSource, LocalSource, Source, UiError, from_cli, local_pid

ACTIONS = ("resume", "stop-node", "stop", "terminate", "retry", "resubmit")

# What each cluster action sends (sluice/commands/control.py, retry.py), as (verb, resource).
NEEDS: dict[str, list[tuple[str, str]]] = {
    "resume": [("patch", "workflows/status")],
    "stop-node": [("patch", "workflows/status")],
    "stop": [("patch", "workflows")],
    "terminate": [("patch", "workflows")],
    "retry": [("update", "workflows/status"), ("patch", "workflows"), ("delete", "pods")],
    "resubmit": [("create", "workflows")],
}

_ONE_AT_A_TIME = asyncio.Lock()


def waiting(wf: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = ((wf.get("status") or {}).get("nodes") or {}).values()
    return [n for n in nodes if n.get("type") == "Suspend" and n.get("phase") in ("Pending", "Running")]


def applicable(wf: dict[str, Any]) -> set[str]:
    """The actions that make sense for the workflow's state (before asking whether they are allowed)."""
    done = phase(wf) in DONE
    out = {"resubmit"} if done else {"stop", "terminate"}
    if waiting(wf) or (not done and (wf.get("spec") or {}).get("suspend")):
        out |= {"resume", "stop-node"}
    if phase(wf) in ("Failed", "Error"):
        out.add("retry")
    return out


async def allowed(source: Source, wf: dict[str, Any]) -> dict[str, bool]:
    """Every action -> whether the UI offers it now: applicable, and permitted for this user."""
    fit = applicable(wf)
    out = dict.fromkeys(ACTIONS, False)
    if isinstance(source, LocalSource):
        if source.active(wf["metadata"]["name"]):
            for action in ("resume", "stop-node", "stop"):
                out[action] = action in fit
        return out
    if isinstance(source, ClusterSource):
        checks = {f"{v} {r}": (v, r) for a in ACTIONS if a in fit for v, r in NEEDS[a]}
        if not checks:
            return out
        answers = await source.allowed(wf["metadata"]["namespace"], checks)
        for action in ACTIONS:
            out[action] = action in fit and all(answers[f"{v} {r}"] for v, r in NEEDS[action])
    return out


def _params(body: dict[str, Any]) -> list[str]:
    params = body.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and k for k in params):
        raise UiError(400, "parameters: expected an object of NAME: VALUE")
    return [f"{k}={v}" for k, v in params.items()]


async def act(source: Source, namespace: str, name: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run `action` on the workflow; {"message": what the CLI said, "name": the workflow to show next}."""
    if action not in ACTIONS:
        raise UiError(404, f"no action {action!r} (one of {', '.join(ACTIONS)})")
    node = body.get("node")
    if node is not None and not isinstance(node, str):
        raise UiError(400, "node: expected a node ID or name")
    parameters = _params(body)
    wf = await source.workflow(namespace, name)
    permitted = await allowed(source, wf)
    if not permitted[action]:
        raise UiError(403, f"{action} is not possible on {name} now (its state, or your permissions)")
    async with _ONE_AT_A_TIME:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if isinstance(source, LocalSource):
                code = await _local(name, action, node, parameters)
            else:
                assert isinstance(source, ClusterSource)
                code = await _cluster(source, namespace, name, action, node, parameters)
    said = (out.getvalue() + err.getvalue()).strip()
    if code != 0:
        raise UiError(409, said or f"{action} failed")
    result: dict[str, Any] = {"message": said.splitlines()[-1] if said else f"{action}: done", "name": name}
    if action == "resubmit":
        try:
            result["name"] = json.loads(out.getvalue())["metadata"]["name"]
            result["message"] = f"resubmitted as {result['name']}"
        except (ValueError, KeyError, TypeError):
            pass
    return result


async def _local(name: str, action: str, node: str | None, parameters: list[str]) -> int:
    if action == "stop":
        pid = local_pid(name)
        if pid is None:
            raise UiError(409, f"local run {name} is not running")
        os.kill(pid, signal.SIGINT)  # the runner's first interrupt: spec.shutdown Stop
        print(f"workflow {name} stopping")
        return 0
    from sluice.commands.resume import run_local  # noqa: PLC0415

    args = argparse.Namespace(name=name, node=node, parameter=parameters, stop=action == "stop-node")
    return run_local(args)


async def _cluster(
    source: ClusterSource, namespace: str, name: str, action: str, node: str | None, parameters: list[str]
) -> int:
    from kube.rest import ApiError  # noqa: PLC0415
    from sluice.cluster import CliError  # noqa: PLC0415
    from sluice.commands import control, retry  # noqa: PLC0415

    cluster = source.at(namespace)
    try:
        if action in ("resume", "stop-node"):
            args = argparse.Namespace(
                name=name,
                node=node,
                node_field_selector=None,
                parameter=parameters,
                message="",
                stop=action == "stop-node",
            )
            return await control.resume_cluster(cluster, args)
        if action in ("stop", "terminate"):
            return await control.patch_spec(cluster, [name], control.SPEC_VERBS[action][1], action)
        if action == "retry":
            args = argparse.Namespace(
                names=[name],
                restart_successful=False,
                node_field_selector=None,
                parameter=parameters,
                wait=False,
            )
            return await retry.retry(cluster, args)
        args = argparse.Namespace(
            names=[name], parameter=parameters, memoized=False, output="json", wait=False
        )
        return await retry.resubmit(cluster, args)
    except (ApiError, CliError) as exc:
        raise from_cli(exc) from None
