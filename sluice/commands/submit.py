"""`sluice submit`: create Workflows on a cluster from files or from a WorkflowTemplate / CronWorkflow.

    sluice submit FILE... [-n NS] [-p NAME=VALUE]... [--parameter-file F] [--entrypoint T]
                 [--name N | --generate-name P] [--serviceaccount SA] [-l KEY=VALUE,...]
                 [--dry-run | --server-dry-run] [-o name|json|yaml] [--wait | --watch] [--timeout S]
    sluice submit --from workflowtemplate/NAME | clusterworkflowtemplate/NAME | cronwf/NAME ...

The options are applied to each workflow before it is sent, as `argo submit` applies them; `--wait`
exits 0 only if every workflow Succeeded (sluice/cli.py lists the exit codes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import yaml

from sluice.cli import EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, parse_parameters, run_verb

LOG_DRAIN_SECONDS = 60.0  # after completion, for the last lines of pods that just ended
FROM_KINDS = {
    "workflowtemplate": "WorkflowTemplate",
    "wftmpl": "WorkflowTemplate",
    "clusterworkflowtemplate": "ClusterWorkflowTemplate",
    "cwftmpl": "ClusterWorkflowTemplate",
    "cronworkflow": "CronWorkflow",
    "cronwf": "CronWorkflow",
    "cwf": "CronWorkflow",
}
TEMPLATE_LABEL = {
    "WorkflowTemplate": "workflows.argoproj.io/workflow-template",
    "ClusterWorkflowTemplate": "workflows.argoproj.io/cluster-workflow-template",
    "CronWorkflow": "workflows.argoproj.io/cron-workflow",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("submit", help="submit workflows to a cluster")
    p.add_argument("files", nargs="*", metavar="FILE", help="workflow YAML/JSON files ('-' for stdin)")
    p.add_argument(
        "--from",
        dest="from_ref",
        metavar="KIND/NAME",
        help="submit from workflowtemplate/NAME, clusterworkflowtemplate/NAME or cronwf/NAME",
    )
    add_submit_options(p)
    p.add_argument("--dry-run", action="store_true", help="print the workflow(s), send nothing")
    p.add_argument(
        "--server-dry-run",
        action="store_true",
        help="send with dryRun=All: the server and its webhooks check, nothing is stored",
    )
    p.add_argument("-o", "--output", choices=["name", "json", "yaml"], help="print the created object(s)")
    follow = p.add_mutually_exclusive_group()
    follow.add_argument(
        "--wait", action="store_true", help="wait for completion; exit code follows the phase"
    )
    follow.add_argument("--watch", action="store_true", help="draw the tree until completion")
    p.add_argument(
        "--log", action="store_true", help="follow the logs of every pod until the workflow completes"
    )
    p.add_argument("--timeout", type=float, help="seconds --wait/--watch waits at most (exit 1 after)")
    add_cluster_args(p)
    p.set_defaults(run=run)


def add_submit_options(p: argparse.ArgumentParser) -> None:
    """The options that shape a workflow (shared with `sluice cron create`)."""
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a workflow argument (repeatable)",
    )
    p.add_argument("--parameter-file", "-f", metavar="FILE", help="YAML/JSON file of NAME: VALUE arguments")
    p.add_argument("--entrypoint", help="the template to start from")
    names = p.add_mutually_exclusive_group()
    names.add_argument("--name", help="the workflow's name")
    names.add_argument("--generate-name", help="the workflow's name prefix")
    p.add_argument("--serviceaccount", help="the service account the workflow's pods run as")
    p.add_argument("-l", "--labels", metavar="KEY=VALUE,...", help="labels to add")


def load_documents(files: list[str]) -> list[dict[str, Any]]:
    from sluice.resources import read_objects  # noqa: PLC0415

    return read_objects(files, "Workflow")


def read_parameter_file(path: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"--parameter-file {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    except yaml.YAMLError:
        raise CliError(f"--parameter-file {path}: not YAML or JSON", EXIT_USAGE) from None
    if not isinstance(data, dict):
        raise CliError(f"--parameter-file {path}: expected a mapping of NAME: VALUE", EXIT_USAGE)
    return {
        str(k): v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True).strip()
        for k, v in data.items()
    }


def parse_labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"-l expects KEY=VALUE[,KEY=VALUE], got {item!r}", EXIT_USAGE)
        out[key.strip()] = value.strip()
    return out


def apply_options(wf: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The submit options applied to one workflow (pure: a new dict, `wf` untouched)."""
    import copy  # noqa: PLC0415

    wf = copy.deepcopy(wf)
    meta = wf.setdefault("metadata", {})
    spec = wf.setdefault("spec", {})
    params = {}
    if args.parameter_file:
        params.update(read_parameter_file(args.parameter_file))
    params.update(parse_parameters(args.parameter))
    if params:
        arguments = spec.setdefault("arguments", {})
        existing = arguments.setdefault("parameters", [])
        for key, value in params.items():
            for param in existing:
                if param.get("name") == key:
                    param["value"] = value
                    param.pop("valueFrom", None)
                    break
            else:
                existing.append({"name": key, "value": value})
    if args.entrypoint:
        spec["entrypoint"] = args.entrypoint
    if args.serviceaccount:
        spec["serviceAccountName"] = args.serviceaccount
    if args.name:
        meta["name"] = args.name
        meta.pop("generateName", None)
    elif args.generate_name:
        meta["generateName"] = args.generate_name
        meta.pop("name", None)
    labels = parse_labels(args.labels)
    if labels:
        meta.setdefault("labels", {}).update(labels)
    return wf


async def from_reference(cluster: Cluster, ref: str) -> dict[str, Any]:
    """A Workflow for `--from KIND/NAME`, as argo builds it (a templateRef, or the cron's spec)."""
    kind_text, sep, name = ref.partition("/")
    kind = FROM_KINDS.get(kind_text.lower())
    if not sep or not name or kind is None:
        raise CliError(
            f"--from expects workflowtemplate/NAME, clusterworkflowtemplate/NAME or cronwf/NAME, got {ref!r}",
            EXIT_USAGE,
        )
    namespace = None if kind == "ClusterWorkflowTemplate" else cluster.namespace
    source = await cluster.rest.get(ARGO, kind, namespace, name)
    labels = {TEMPLATE_LABEL[kind]: name}
    meta: dict[str, Any] = {"generateName": f"{name}-", "labels": labels}
    if kind == "CronWorkflow":
        spec = dict(source["spec"].get("workflowSpec") or {})
        wf_meta = source["spec"].get("workflowMetadata") or {}
        meta["labels"] = {**(wf_meta.get("labels") or {}), **labels}
        if wf_meta.get("annotations"):
            meta["annotations"] = dict(wf_meta["annotations"])
        meta["ownerReferences"] = [
            {
                "apiVersion": ARGO,
                "kind": "CronWorkflow",
                "name": name,
                "uid": source["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    else:
        spec = {
            "workflowTemplateRef": {"name": name, **({"clusterScope": True} if namespace is None else {})}
        }
    return {"apiVersion": ARGO, "kind": "Workflow", "metadata": meta, "spec": spec}


def run(args: argparse.Namespace) -> int:
    if bool(args.files) == bool(args.from_ref):
        print("sluice submit: give workflow FILE(s) or --from KIND/NAME (one of the two)", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run and not args.from_ref:
        try:
            docs = [apply_options(d, args) for d in load_documents(args.files)]
        except CliError as exc:
            print(f"sluice submit: {exc.message}", file=sys.stderr)
            return exc.code
        from sluice.output import render  # noqa: PLC0415

        sys.stdout.write(render(docs, args.output or "yaml", as_list=len(docs) > 1))
        return EXIT_OK
    return run_verb("submit", args, lambda cluster: submit(cluster, args))


async def submit(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.follow import TreeView, exit_code, until_done  # noqa: PLC0415
    from sluice.output import render  # noqa: PLC0415

    docs = [await from_reference(cluster, args.from_ref)] if args.from_ref else load_documents(args.files)
    docs = [apply_options(d, args) for d in docs]
    if args.dry_run:
        sys.stdout.write(render(docs, args.output or "yaml", as_list=len(docs) > 1))
        return EXIT_OK
    created = []
    for doc in docs:
        path = await cluster.rest.path(ARGO, "Workflow", cluster.namespace)
        query = {"dryRun": "All"} if args.server_dry_run else None
        created.append(await cluster.rest.request("POST", path, doc, query=query))
    if args.output:
        sys.stdout.write(render(created, args.output, as_list=len(created) > 1))
    else:
        for wf in created:
            print(
                f"workflow.argoproj.io/{wf['metadata']['name']} {'checked' if args.server_dry_run else 'created'}"
                f" in {cluster.namespace}"
            )
    if args.server_dry_run or not (args.wait or args.watch or args.log):
        return EXIT_OK
    code = EXIT_OK
    for wf in created:
        name = wf["metadata"]["name"]
        logging = asyncio.create_task(_follow_logs(cluster, name)) if args.log else None
        done = await until_done(
            cluster, name, timeout=args.timeout, on_change=TreeView() if args.watch else None
        )
        if logging is not None:
            await _finish(logging, LOG_DRAIN_SECONDS if done is not None else 0.0)
        if done is None:
            print(f"sluice submit: {name} still running after {args.timeout:g}s", file=sys.stderr)
            code = max(code, 1)
            continue
        if args.wait:
            print(
                f"{name} {done['status'].get('phase')}"
                + (f": {done['status']['message']}" if done["status"].get("message") else "")
            )
        code = max(code, exit_code(done))
    return code


async def _follow_logs(cluster: Cluster, name: str) -> None:
    """`--log`: every pod's main container, followed while the workflow runs (pods may be gone after)."""
    from sluice.commands.logs import print_logs  # noqa: PLC0415

    await print_logs(cluster, name, None, container="main", since=None, follow=True)


async def _finish(task: asyncio.Task[None], seconds: float) -> None:
    """Let the log streams of finished pods drain for up to `seconds`, then stop them."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
