"""`sluice get NAME`: one workflow as the tree `sluice run` draws (sluice/runner/display.py), or as data.

sluice get NAME [-n NS] [-o yaml|json|wide|name]
"""

from __future__ import annotations

import argparse
import sys
import time

from sluice.cli import EXIT_OK
from sluice.cluster import ARGO, Cluster, add_cluster_args, run_verb
from sluice.output import duration, render, shown_phase, with_nodes


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("get", help="show a workflow on a cluster")
    p.add_argument("name")
    p.add_argument("-o", "--output", choices=["yaml", "json", "wide", "name"])
    p.add_argument("--no-color", action="store_true")
    p.add_argument("--local", action="store_true", help="a run of `sluice run` on this machine")
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.local:
        from sluice.cluster import run_local  # noqa: PLC0415
        from sluice.localruns import load  # noqa: PLC0415

        return run_local("get", lambda: show(args, load(args.name)))
    return run_verb("get", args, lambda c: get(c, args))


def summary(wf: dict, now: float, wide: bool = False) -> list[str]:
    meta, spec, status = wf["metadata"], wf.get("spec") or {}, wf.get("status") or {}
    lines = [
        f"Namespace:       {meta.get('namespace', '')}",
        f"ServiceAccount:  {spec.get('serviceAccountName') or 'unset'}",
        f"Created:         {meta.get('creationTimestamp', '')}",
    ]
    if status.get("startedAt"):
        lines.append(f"Started:         {status['startedAt']}")
    if status.get("finishedAt"):
        lines.append(f"Finished:        {status['finishedAt']}")
    if status.get("startedAt"):
        lines.append(f"Duration:        {duration(wf, now)}")
    params = ((spec.get("arguments") or {}).get("parameters")) or []
    if params:
        lines.append("Parameters:")
        lines += [f"  {p.get('name')}: {p.get('value', '')}" for p in params]
    if wide and meta.get("labels"):
        lines.append("Labels:")
        lines += [f"  {k}={v}" for k, v in sorted(meta["labels"].items())]
    return lines


async def get(cluster: Cluster, args: argparse.Namespace) -> int:
    wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, args.name)
    return show(args, wf if args.output in ("yaml", "json", "name") else with_nodes(wf))


def show(args: argparse.Namespace, wf: dict) -> int:
    from sluice.runner.display import render_tree  # noqa: PLC0415

    if args.output in ("yaml", "json", "name"):
        sys.stdout.write(render([wf], args.output, as_list=False))
        return EXIT_OK
    now = time.time()
    color = sys.stdout.isatty() and not args.no_color
    tree = render_tree(wf, now, color)
    # the tree's Status line shows argo's "(Suspended)"/"(Stopping)" too
    tree[1] = tree[1].replace(wf.get("status", {}).get("phase") or "Pending", shown_phase(wf), 1)
    print("\n".join(tree[:2] + summary(wf, now, wide=args.output == "wide") + tree[2:]))
    return EXIT_OK
