"""`sluice suspend|stop|terminate NAME...` and the cluster side of `sluice resume`.

suspend sets `spec.suspend`; stop and terminate set `spec.shutdown` to Stop / Terminate (Argo: stop
still runs exit handlers, terminate does not); the controller acts on them. As `argo stop`, `stop
--node-field-selector SEL [--message M]` instead fails the waiting suspend nodes SEL picks, with M as
their message (what `resume --stop` does); `--message` alone changes nothing.

`resume` on a cluster uses Argo's own mechanism, since the controller reads no separate resume request
(controller/ on main): `spec.suspend` is cleared if set, and each waiting Suspend node (or the one named
with `--node` / `--node-field-selector`) is marked Succeeded in `status.nodes` through the status
subresource, its `valueFrom.supplied` outputs filled from `-p` (defaults otherwise) as the core's
workflow/engine/suspend.py does. Resuming a node therefore needs only `update` on `workflows/status`
(the approver's Role), not on the Workflow itself.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from sluice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, parse_parameters, run_verb
from sluice.output import compressed, with_nodes

CONFLICT_RETRIES = 5
SPEC_VERBS = {
    "suspend": ("suspend a workflow (spec.suspend)", {"suspend": True}),
    "stop": ("stop a workflow: running steps are stopped, exit handlers still run", {"shutdown": "Stop"}),
    "terminate": ("terminate a workflow: no exit handlers run", {"shutdown": "Terminate"}),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    for verb, (text, patch) in SPEC_VERBS.items():
        p = subparsers.add_parser(verb, help=text)
        p.add_argument("names", nargs="+", metavar="NAME")
        if verb == "stop":
            p.add_argument(
                "--node-field-selector",
                help="fail only the waiting suspend nodes matching (e.g. displayName=gate)",
            )
            p.add_argument(
                "--message", default="", help="the message of the nodes --node-field-selector fails"
            )
        add_cluster_args(p)
        p.set_defaults(
            run=lambda args, verb=verb, patch=patch: run_verb(
                verb, args, lambda c: control(c, args, patch, verb)
            )
        )


async def control(cluster: Cluster, args: argparse.Namespace, patch: dict[str, Any], verb: str) -> int:
    selector = getattr(args, "node_field_selector", None)
    if not selector:
        if getattr(args, "message", ""):
            print(f"sluice {verb}: --message is recorded only with --node-field-selector", file=sys.stderr)
        return await patch_spec(cluster, args.names, patch, verb)
    code = EXIT_OK
    for name in args.names:
        one = argparse.Namespace(
            name=name, node=None, node_field_selector=selector, parameter=[], message=args.message, stop=True
        )
        code = max(code, await resume_cluster(cluster, one))
    return code


async def patch_spec(cluster: Cluster, names: list[str], patch: dict[str, Any], verb: str) -> int:
    done = {"suspend": "suspended", "stop": "stopped", "terminate": "terminated"}[verb]
    for name in names:
        wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, name)
        if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
            raise CliError(f"workflow {name} has already finished ({wf['status']['phase']})", EXIT_FAILED)
        await cluster.rest.merge_patch(ARGO, "Workflow", cluster.namespace, name, {"spec": patch})
        print(f"workflow {name} {done}")
    return EXIT_OK


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def waiting_nodes(wf: dict[str, Any], node: str | None, selector: str | None) -> list[dict[str, Any]]:
    """The active Suspend nodes `--node` / `--node-field-selector` pick (all of them without either)."""
    from workflow.retry_reset import matches, parse_selector  # noqa: PLC0415

    terms = parse_selector(selector)
    out = []
    for n in ((wf.get("status") or {}).get("nodes") or {}).values():
        if n.get("type") != "Suspend" or n.get("phase") not in ("Pending", "Running"):
            continue
        if node is not None and node not in (n.get("id"), n.get("name"), n.get("displayName")):
            continue
        if matches(n, terms):
            out.append(n)
    return out


def node_patch(
    node: dict[str, Any], params: dict[str, str], stop: bool, now: str, message: str
) -> dict[str, Any]:
    """The status.nodes entry that resumes (Succeeded, supplied outputs) or stops (Failed) a Suspend node."""
    from workflow.engine.suspend import supplied_outputs  # noqa: PLC0415  (the core's own rule)

    if stop:
        return {"phase": "Failed", "finishedAt": now, "message": message or "Stopped"}
    patch: dict[str, Any] = {"phase": "Succeeded", "finishedAt": now}
    outputs = supplied_outputs(node.get("outputs"), params)
    if outputs:
        patch["outputs"] = outputs
    if message:
        patch["message"] = message
    return patch


async def resume_cluster(cluster: Cluster, args: argparse.Namespace) -> int:
    from kube.rest import ApiError  # noqa: PLC0415
    from workflow.retry_reset import SelectorError  # noqa: PLC0415

    params = parse_parameters(args.parameter)
    stop = bool(getattr(args, "stop", False))
    for attempt in range(CONFLICT_RETRIES):
        held = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, args.name)
        wf = with_nodes(held)
        try:
            nodes = waiting_nodes(wf, args.node, getattr(args, "node_field_selector", None))
        except SelectorError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        whole = args.node is None and not getattr(args, "node_field_selector", None)
        suspended = bool((wf.get("spec") or {}).get("suspend"))
        if not nodes and not (whole and suspended):
            what = (
                f"no waiting suspend node matching {args.node or args.node_field_selector!r}"
                if not whole
                else "nothing suspended"
            )
            print(f"sluice resume: {args.name} has {what}", file=sys.stderr)
            return EXIT_NOT_FOUND if not whole else EXIT_FAILED
        if params and not nodes:
            raise CliError("-p supplies outputs of a suspend node, and none is waiting", EXIT_USAGE)
        try:
            if nodes:
                stamp = now_stamp()
                changes = {n["id"]: node_patch(n, params, stop, stamp, args.message) for n in nodes}
                status: dict[str, Any] = {"nodes": changes}
                if compressed(held):  # rewrite the compressed map whole, as the controller holds it
                    from workflow.types.compress import encode_compressed_nodes  # noqa: PLC0415

                    full = wf["status"]["nodes"]
                    status = {
                        "compressedNodes": encode_compressed_nodes(
                            {i: {**n, **changes.get(i, {})} for i, n in full.items()}
                        )
                    }
                patch = {"metadata": {"resourceVersion": wf["metadata"]["resourceVersion"]}, "status": status}
                # the status subresource; on Argo-shaped CRDs (none) the Workflow itself (kube/rest.py)
                await cluster.rest.merge_patch_status(ARGO, "Workflow", cluster.namespace, args.name, patch)
            if whole and suspended:
                await cluster.rest.merge_patch(
                    ARGO, "Workflow", cluster.namespace, args.name, {"spec": {"suspend": None}}
                )
        except ApiError as exc:
            if exc.status == 409 and attempt + 1 < CONFLICT_RETRIES:
                continue  # the controller wrote in between: read again
            raise
        names = ", ".join(n.get("displayName") or n["name"] for n in nodes)
        print(f"workflow {args.name} {'stopped' if stop else 'resumed'}" + (f" ({names})" if names else ""))
        return EXIT_OK
    return EXIT_FAILED
