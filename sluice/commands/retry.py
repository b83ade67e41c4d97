"""`sluice retry NAME` and `sluice resubmit NAME` on a cluster, as `argo retry|resubmit`.

retry: the failed nodes are reset by the core's pure workflow/retry_reset.py (`--restart-successful`,
`--node-field-selector`), their pods deleted, and the workflow written back Running (status through
the status subresource with its resourceVersion, so a concurrent controller write is a conflict, not
a lost update). resubmit: a new workflow from the old one's spec, named `<name>-` + a generated suffix
and labelled `workflows.argoproj.io/resubmitted-from-workflow`.
"""

from __future__ import annotations

import argparse
import copy
import sys
from typing import Any
from urllib.parse import quote

from sluice.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, parse_parameters, run_verb
from workflow.labels import LABEL_INSTANCE, LABEL_RESUBMITTED

DROPPED_LABELS = (
    "workflows.argoproj.io/completed",
    "workflows.argoproj.io/phase",
    "workflows.argoproj.io/workflow-archiving-status",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("retry", help="retry a failed workflow: its failed nodes run again")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument(
        "--restart-successful",
        action="store_true",
        help="also run again the succeeded nodes --node-field-selector matches",
    )
    p.add_argument("--node-field-selector", help="e.g. displayName=build,templateName!=x")
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a workflow argument for the retry",
    )
    add_follow(p)
    add_cluster_args(p)
    p.set_defaults(run=lambda args: run_verb("retry", args, lambda c: retry(c, args)))
    r = subparsers.add_parser("resubmit", help="submit a workflow again, as a new workflow")
    r.add_argument("names", nargs="+", metavar="NAME")
    r.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a workflow argument",
    )
    r.add_argument(
        "--memoized",
        action="store_true",
        help="keep the succeeded steps of a Failed/Error workflow: only the rest runs again",
    )
    r.add_argument("-o", "--output", choices=["name", "json", "yaml"])
    add_follow(r)
    add_cluster_args(r)
    r.set_defaults(run=lambda args: run_verb("resubmit", args, lambda c: resubmit(c, args)))


def add_follow(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="wait for completion; exit code follows the phase")
    p.add_argument("--timeout", type=float, help="seconds --wait waits at most")


def _with_parameters(spec: dict[str, Any], params: dict[str, str]) -> None:
    existing = spec.setdefault("arguments", {}).setdefault("parameters", [])
    for key, value in params.items():
        for param in existing:
            if param.get("name") == key:
                param["value"] = value
                break
        else:
            existing.append({"name": key, "value": value})


def _nodes_of(status: dict[str, Any]) -> dict[str, Any]:
    from sluice.output import compressed, with_nodes  # noqa: PLC0415

    if compressed({"status": status}) and "nodes" not in with_nodes({"status": status})["status"]:
        raise CliError("cannot read the workflow's status.compressedNodes", EXIT_FAILED)
    return with_nodes({"status": status})["status"].get("nodes") or {}


async def _delete_pods(cluster: Cluster, name: str, node_ids: set[str]) -> int:
    from kube.rest import ApiError  # noqa: PLC0415
    from workflow.labels import ANN_NODE_ID, LABEL_WORKFLOW  # noqa: PLC0415

    ns = quote(cluster.namespace, safe="")
    page = await cluster.rest.request(
        "GET", f"/api/v1/namespaces/{ns}/pods", query={"labelSelector": f"{LABEL_WORKFLOW}={name}"}
    )
    deleted = 0
    for pod in page.get("items") or ():
        if (pod["metadata"].get("annotations") or {}).get(ANN_NODE_ID) in node_ids:
            try:
                await cluster.rest.delete("v1", "Pod", cluster.namespace, pod["metadata"]["name"])
                deleted += 1
            except ApiError as exc:
                if exc.status != 404:
                    raise
    return deleted


async def retry(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.commands.control import now_stamp  # noqa: PLC0415
    from workflow.retry_reset import SelectorError, reset_for_retry  # noqa: PLC0415

    params = parse_parameters(args.parameter)
    for name in args.names:
        wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, name)
        status = wf.setdefault("status", {})
        status["nodes"] = _nodes_of(status)
        status.pop("compressedNodes", None)
        try:
            new, pods = reset_for_retry(
                wf,
                now_stamp(),
                restart_successful=args.restart_successful,
                node_selector=args.node_field_selector,
            )
        except SelectorError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        except ValueError as exc:
            raise CliError(str(exc), EXIT_FAILED) from None
        removed = set(status["nodes"]) - set(new["status"].get("nodes") or {})
        await _delete_pods(cluster, name, removed)
        # status first (the subresource; its resourceVersion guards against a concurrent writer) ...
        await cluster.rest.replace_status(new)
        # ... then what the main resource holds: arguments, shutdown cleared, the completed label
        spec_patch: dict[str, Any] = {"shutdown": None}
        if params:
            spec = copy.deepcopy(new.get("spec") or {})
            _with_parameters(spec, params)
            spec_patch["arguments"] = spec["arguments"]
        labels = {k: v for k, v in (new["metadata"].get("labels") or {}).items()}
        patch = {
            "spec": spec_patch,
            "metadata": {
                "labels": {
                    **labels,
                    **{
                        k: None
                        for k in DROPPED_LABELS
                        if k in (wf["metadata"].get("labels") or {}) and k not in labels
                    },
                }
            },
        }
        await cluster.rest.merge_patch(ARGO, "Workflow", cluster.namespace, name, patch)
        print(f"workflow {name} retried ({len(removed)} node(s) to run again, {len(pods)} of them pods)")
    return await _maybe_wait(cluster, args, args.names)


def resubmitted(wf: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """The new Workflow `resubmit` creates from `wf` (pure)."""
    meta = wf["metadata"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in DROPPED_LABELS}
    labels[LABEL_RESUBMITTED] = meta["name"]
    spec = copy.deepcopy(wf.get("spec") or {})
    spec.pop("shutdown", None)
    spec.pop("suspend", None)
    if params:
        _with_parameters(spec, params)
    new_meta: dict[str, Any] = {
        "generateName": meta.get("generateName") or f"{meta['name']}-",
        "labels": labels,
    }
    if meta.get("annotations"):
        new_meta["annotations"] = {
            k: v
            for k, v in meta["annotations"].items()
            if k != "kubectl.kubernetes.io/last-applied-configuration"
        }
    return {"apiVersion": ARGO, "kind": "Workflow", "metadata": new_meta, "spec": spec}


async def resubmit(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.output import render  # noqa: PLC0415

    params = parse_parameters(args.parameter)
    created = []
    for name in args.names:
        wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, name)
        new = resubmitted(wf, params)
        if args.memoized:
            new = await _create_memoized(cluster, wf, new)
        else:
            new = await cluster.rest.create(new, cluster.namespace)
        created.append(new)
        if not args.output:
            print(f"workflow.argoproj.io/{new['metadata']['name']} created (resubmitted from {name})")
    if args.output:
        sys.stdout.write(render(created, args.output, as_list=len(created) > 1))
    return await _maybe_wait(cluster, args, [w["metadata"]["name"] for w in created])


async def _create_memoized(cluster: Cluster, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Create `new` with the old run's succeeded nodes in its status (workflow/retry_reset.py).

    The status subresource drops a status sent with the create, so the workflow is created held (an
    instance ID no controller has), its nodes written through /status, then handed to its controller by
    restoring the instance label: no controller ever sees it without its nodes.
    """
    import secrets  # noqa: PLC0415
    import string  # noqa: PLC0415

    from sluice.commands.control import now_stamp  # noqa: PLC0415
    from workflow.names import node_id  # noqa: PLC0415
    from workflow.retry_reset import memoized_nodes  # noqa: PLC0415

    phase = (old.get("status") or {}).get("phase")
    if phase not in ("Failed", "Error"):
        raise CliError(
            f"workflow {old['metadata']['name']} is {phase or 'Pending'}: --memoized resubmits only "
            "a Failed or Error workflow",
            EXIT_FAILED,
        )
    meta = new["metadata"]
    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    meta["name"] = meta.pop("generateName") + suffix
    labels = meta.setdefault("labels", {})
    instance = labels.get(LABEL_INSTANCE)
    labels[LABEL_INSTANCE] = f"sluice-resubmit-hold-{suffix}"
    created = await cluster.rest.create(new, cluster.namespace)
    nodes = memoized_nodes(
        _nodes_of(old.get("status") or {}), old["metadata"]["name"], meta["name"], node_id, now_stamp()
    )
    created["status"] = {"nodes": nodes}
    try:
        created = await cluster.rest.replace_status(created)
    finally:  # hand it over even if the status could not be written: it then runs from the start
        created = await cluster.rest.merge_patch(
            ARGO,
            "Workflow",
            cluster.namespace,
            meta["name"],
            {"metadata": {"labels": {LABEL_INSTANCE: instance}}},
        )
    return created


async def _maybe_wait(cluster: Cluster, args: argparse.Namespace, names: list[str]) -> int:
    if not args.wait:
        return EXIT_OK
    from sluice.follow import exit_code, until_done  # noqa: PLC0415

    code = EXIT_OK
    for name in names:
        done = await until_done(cluster, name, timeout=args.timeout)
        if done is None:
            print(f"{name} still running after {args.timeout:g}s", file=sys.stderr)
            code = EXIT_FAILED
            continue
        print(f"{name} {done['status'].get('phase')}")
        code = max(code, exit_code(done))
    return code
