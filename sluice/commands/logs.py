"""`sluice logs NAME [NODE]`: the logs of a workflow's pods (all of them, or one node's), as `argo logs`.

    sluice logs NAME [NODE] [-n NS] [-c CONTAINER] [-f] [--since 10m] [--tail N] [--timestamps]
                [--grep REGEXP]
    sluice logs NAME [NODE] --local [-f] [--tail N] [--grep REGEXP]     (a run of `sluice run`)

Pods are found by the label the controller sets (`workflows.argoproj.io/workflow=NAME`), a node by its
pod's `workflows.argoproj.io/node-id|node-name` annotations (ID, name or display name given). Lines are
prefixed with the pod's node (display) name when several pods are shown. With `-f` new pods are picked
up until the workflow ends; every request is bounded (a read timeout, no unbounded buffering).
`--grep` keeps the lines a regular expression matches anywhere (Go's RE2 syntax, as `argo logs --grep`;
workflow/expr/regex.py), `--local` runs included.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sluice.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, run_verb
from workflow.labels import ANN_NODE_ID, ANN_NODE_NAME, LABEL_WORKFLOW

POLL_SECONDS = 2.0
LOCAL_POLL_SECONDS = 0.2  # a local run's output files, looked at again
MAX_LINE = 1 << 20  # a longer line is shown in pieces of this many bytes
READ_TIMEOUT = 300.0  # a followed stream quiet this long is reopened
Emit = Callable[[str, str], None]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("logs", help="print the logs of a workflow's pods on a cluster")
    p.add_argument("name", help="the workflow")
    p.add_argument("node", nargs="?", help="only this node's pod (node ID, name, display name or pod name)")
    p.add_argument("-c", "--container", default="main", help="the container (default main)")
    p.add_argument("-f", "--follow", action="store_true", help="follow until the workflow ends")
    p.add_argument("--since", help="only lines newer than this (e.g. 10m, 1h)")
    p.add_argument("--tail", type=int, help="only the last N lines of each pod")
    p.add_argument("--timestamps", action="store_true", help="prefix each line with its time")
    p.add_argument("--grep", metavar="REGEXP", help="only lines this regular expression matches (RE2)")
    p.add_argument("--local", action="store_true", help="a run of `sluice run` on this machine")
    add_cluster_args(p)
    p.set_defaults(run=run)


def line_filter(pattern: str | None) -> Callable[[str], bool] | None:
    """`--grep`: a test for each line, or None to keep them all; a bad pattern is a usage error."""
    if not pattern:
        return None
    from workflow.expr.errors import ExprRuntimeError  # noqa: PLC0415
    from workflow.expr.regex import go_regex  # noqa: PLC0415

    try:
        return go_regex(pattern).matches
    except ExprRuntimeError as exc:
        raise CliError(f"--grep: {exc}", EXIT_USAGE) from None


def run(args: argparse.Namespace) -> int:
    if args.local:
        from sluice.cluster import run_local  # noqa: PLC0415

        return run_local("logs", lambda: logs_local(args))
    return run_verb("logs", args, lambda c: logs(c, args))


def logs_local(args: argparse.Namespace) -> int:
    """A local run's step outputs, as written; with `-f`, followed while the run (in another shell) is
    active, new steps included. `--since` and `--timestamps` need a cluster's pods (no line times here)."""
    from collections import deque  # noqa: PLC0415

    from sluice.localruns import load, pod_logs  # noqa: PLC0415
    from sluice.runner import state  # noqa: PLC0415

    if args.since or args.timestamps:
        raise CliError(
            "--local output has no line times: --since and --timestamps need a cluster", EXIT_USAGE
        )
    keep = line_filter(args.grep)
    offsets: dict[Path, int] = {}
    while True:
        running = args.follow and args.name in state.active_runs()  # looked at before reading: no loss
        for label, path in pod_logs(load(args.name), args.node, args.container):
            fresh = path not in offsets
            lines: Iterable[str] = _lines_from(path, offsets, complete_only=running)
            if fresh and args.tail is not None:
                lines = deque(lines, maxlen=args.tail)
            for line in lines:
                if keep is None or keep(line):
                    sys.stdout.write(f"{line}\n" if args.node is not None else f"{label}: {line}\n")
        sys.stdout.flush()
        if not running:
            break
        time.sleep(LOCAL_POLL_SECONDS)
    if not offsets and args.node is not None:
        raise CliError(f"local run {args.name} has no output for node {args.node!r}", EXIT_NOT_FOUND)
    return EXIT_OK


def _lines_from(path: Path, offsets: dict[Path, int], complete_only: bool) -> Iterator[str]:
    """The lines of `path` after `offsets[path]`, which advances as they are read (streamed: outputs may
    be large). While the step may still write, a last line without its newline waits for the next look."""
    offsets.setdefault(path, 0)
    with path.open("rb") as fh:
        fh.seek(offsets[path])
        while line := fh.readline(MAX_LINE):
            if complete_only and not line.endswith(b"\n") and len(line) < MAX_LINE:
                break
            offsets[path] = fh.tell()
            yield line.decode("utf-8", "replace").rstrip("\n")


def pod_matches(pod: dict[str, Any], node: str | None, display: dict[str, str]) -> bool:
    if node is None:
        return True
    ann = pod["metadata"].get("annotations") or {}
    node_id = ann.get(ANN_NODE_ID)
    return node in (pod["metadata"]["name"], node_id, ann.get(ANN_NODE_NAME), display.get(node_id or ""))


async def _pods(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    page = await cluster.rest.request(
        "GET",
        f"/api/v1/namespaces/{quote(cluster.namespace, safe='')}/pods",
        query={"labelSelector": f"{LABEL_WORKFLOW}={name}"},
    )
    items = page.get("items") or []
    items.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return items


async def _stream(
    cluster: Cluster,
    pod: dict[str, Any],
    prefix: str,
    args: argparse.Namespace,
    follow: bool,
    since_seconds: int | None,
    lock: asyncio.Lock,
    emit: Emit | None = None,
) -> None:
    """One pod's log (each line to `emit(prefix, line)`, else stdout). Followed, a stream quiet for READ_TIMEOUT is reopened for the lines of that quiet
    time only (none were sent in it, so nothing repeats) while the pod has not ended."""
    import aiohttp  # noqa: PLC0415
    from kubernetes_asyncio.client.exceptions import ApiException  # noqa: PLC0415

    name = pod["metadata"]["name"]
    path = f"/api/v1/namespaces/{quote(cluster.namespace, safe='')}/pods/{quote(name, safe='')}/log"
    timeout = aiohttp.ClientTimeout(sock_connect=30, sock_read=READ_TIMEOUT if follow else 60)
    tail = args.tail
    while True:
        query = [("container", args.container), ("follow", "true" if follow else "false")]
        if since_seconds:
            query.append(("sinceSeconds", str(since_seconds)))
        if tail is not None:
            query.append(("tailLines", str(tail)))
        if args.timestamps:
            query.append(("timestamps", "true"))
        try:
            resp = await cluster.api_client.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": "*/*"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=timeout,
            )
        except ApiException as exc:
            if exc.status == 400:  # container not started yet, or no such container
                async with lock:
                    print(f"{prefix or name}: (no logs: {(exc.body or b'')[:200]!r})", file=sys.stderr)
                return
            raise
        quiet = False
        try:
            async for raw in resp.content:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if args.keep is not None and not args.keep(line):
                    continue
                if emit is not None:
                    emit(prefix or name, line)
                    continue
                async with lock:
                    sys.stdout.write(f"{prefix}: {line}\n" if prefix else f"{line}\n")
                    sys.stdout.flush()
        except TimeoutError:
            quiet = True
        finally:
            resp.release()
        if not (follow and quiet):
            return
        from kube.rest import ApiError  # noqa: PLC0415

        try:
            current = await cluster.rest.request("GET", path.rsplit("/", 1)[0])
        except ApiError as exc:
            if exc.status == 404:  # the pod is gone: nothing more to follow
                return
            raise
        if (current.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        since_seconds, tail = int(READ_TIMEOUT), None


async def print_logs(
    cluster: Cluster,
    name: str,
    node: str | None,
    *,
    container: str,
    since: str | None,
    follow: bool,
    tail: int | None = None,
    timestamps: bool = False,
    emit: Emit | None = None,
    grep: str | None = None,
) -> int:
    """`emit(label, line)` receives the lines instead of stdout (the web UI, sluice/ui/sources.py)."""
    args = argparse.Namespace(container=container, tail=tail, timestamps=timestamps, keep=line_filter(grep))
    from sluice.output import DONE, parse_age, phase, with_nodes  # noqa: PLC0415

    try:
        since_seconds = int(parse_age(since)) if since else None
    except ValueError as exc:
        raise CliError(f"--since: {exc}", EXIT_USAGE) from None
    lock = asyncio.Lock()
    started: dict[str, asyncio.Task[None]] = {}
    while True:
        wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, name)
        nodes = (with_nodes(wf).get("status") or {}).get("nodes") or {}
        display = {i: n.get("displayName") or n.get("name", "") for i, n in nodes.items()}
        pods = [p for p in await _pods(cluster, name) if pod_matches(p, node, display)]
        for pod in pods:
            pod_name = pod["metadata"]["name"]
            if pod_name in started:
                continue
            if follow and (pod.get("status") or {}).get("phase") == "Pending":
                continue  # no log yet: picked up on a later round
            node_id = (pod["metadata"].get("annotations") or {}).get(ANN_NODE_ID, "")
            prefix = "" if node is not None else display.get(node_id) or pod_name
            started[pod_name] = asyncio.create_task(
                _stream(cluster, pod, prefix, args, follow, since_seconds, lock, emit)
            )
        if not follow or phase(wf) in DONE:
            break
        await asyncio.sleep(POLL_SECONDS)
    if started:
        await asyncio.gather(*started.values())
    elif node is not None:
        raise CliError(f"workflow {name} has no pod for node {node!r}", EXIT_NOT_FOUND)
    return EXIT_OK


async def logs(cluster: Cluster, args: argparse.Namespace) -> int:
    return await print_logs(
        cluster,
        args.name,
        args.node,
        container=args.container,
        since=args.since,
        follow=args.follow,
        tail=args.tail,
        timestamps=args.timestamps,
        grep=args.grep,
    )
