"""The JSON API of `sluice ui` under /api/ (the pages read it; scripts may too).

    GET  /api/info                                   mode (local|cluster), default namespace
    GET  /api/workflows?namespace=&phase=&label=&since=&older=     summaries, newest first
    GET  /api/workflows/NS/NAME?expand=G,...          the workflow, its graph (sluice/ui/layout.py),
                                                      the actions offered (sluice/ui/actions.py)
    GET  /api/workflows/NS/NAME/nodes/ID              one node, with its pod's name
    GET  /api/workflows/NS/NAME/events?expand=        server-sent events: `workflow` on every change
    GET  /api/workflows/NS/NAME/logs?node=&container=&follow=1     text; with follow, events `line`
    GET  /api/workflows/NS/NAME/artifacts/NODE/inputs|outputs/ART  the artifact's stored file
    POST /api/workflows/NS/NAME/ACTION {node, parameters}          resume|stop-node|stop|terminate|
                                                                   retry|resubmit
    GET  /api/cronworkflows?namespace=, /api/workflowtemplates?namespace=  (cluster only)

An empty `namespace` means every namespace. Errors are {"error": one line} with the HTTP status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from aiohttp import web

from sluice.labels import label_problem
from sluice.output import DONE, duration, phase, shown_phase
from sluice.ui import actions
from sluice.ui.layout import layout
from sluice.ui.sources import Source, UiError, pod_name

SOURCE: web.AppKey[Source] = web.AppKey("source", Source)
EVENT_MIN_GAP = 0.3  # seconds between two graph events (a burst of steps is one redraw)
HEARTBEAT = 15.0  # a comment on quiet event streams, so proxies and browsers keep them open


def _source(request: web.Request) -> Source:
    """The request's own source (the viewer's token: sluice/ui/viewer_auth.py), else the app's."""
    return request.get("source") or request.app[SOURCE]


def summary(wf: dict[str, Any], now: float) -> dict[str, Any]:
    meta, status = wf["metadata"], wf.get("status") or {}
    return {
        "name": meta["name"],
        "namespace": meta.get("namespace", "default"),
        "phase": phase(wf),
        "shownPhase": shown_phase(wf),
        "created": meta.get("creationTimestamp"),
        "startedAt": status.get("startedAt"),
        "finishedAt": status.get("finishedAt"),
        "duration": duration(wf, now),
        "progress": status.get("progress"),
        "message": status.get("message"),
        "labels": meta.get("labels") or {},
    }


async def info(request: web.Request) -> web.Response:
    src = _source(request)
    return web.json_response({"mode": src.mode, "namespace": src.namespace})


async def list_workflows(request: web.Request) -> web.Response:
    from sluice.cluster import CliError  # noqa: PLC0415
    from sluice.commands.list import select  # noqa: PLC0415

    q = request.query
    selector = q.get("label") or None
    problem = label_problem(selector)
    if problem:
        raise UiError(400, f"label: {problem}")
    namespace = q.get("namespace", _source(request).namespace)
    items = await _source(request).workflows(namespace or None, selector)
    filters = argparse.Namespace(
        running=False,
        completed=False,
        status=q.get("phase") or None,
        older=q.get("older"),
        since=q.get("since"),
    )
    now = time.time()
    try:
        chosen = select(items, filters, now)  # the filters of `sluice list` (sluice/commands/list.py)
    except CliError as exc:
        raise UiError(400, exc.message.replace("--status", "phase")) from None
    return web.json_response({"items": [summary(wf, now) for wf in chosen]})


def _expand(request: web.Request) -> frozenset[str]:
    return frozenset(x for x in request.query.get("expand", "").split(",") if x)


async def get_workflow(request: web.Request) -> web.Response:
    ns, name = request.match_info["ns"], request.match_info["name"]
    wf = await _source(request).workflow(ns, name)
    return web.json_response(
        {
            "workflow": wf,
            "summary": summary(wf, time.time()),
            "graph": layout(wf, _expand(request)),
            "actions": await actions.allowed(_source(request), wf),
            "waiting": actions.waiting(wf),
        }
    )


def node_of(wf: dict[str, Any], key: str) -> dict[str, Any]:
    nodes = (wf.get("status") or {}).get("nodes") or {}
    node = nodes.get(key) or next(
        (n for n in nodes.values() if key in (n.get("name"), n.get("displayName"))), None
    )
    if node is None:
        raise UiError(404, f"workflow {wf['metadata']['name']} has no node {key!r}")
    return node


async def get_node(request: web.Request) -> web.Response:
    ns, name = request.match_info["ns"], request.match_info["name"]
    wf = await _source(request).workflow(ns, name)
    node = node_of(wf, request.match_info["node"])
    return web.json_response({**node, "podName": pod_name(wf, node)})


async def get_artifact(request: web.Request) -> web.StreamResponse:
    """One of a node's input or output artifacts, as its stored file (a .tgz unless archive: none)."""
    ns, name, which = request.match_info["ns"], request.match_info["name"], request.match_info["io"]
    if which not in ("inputs", "outputs"):
        raise UiError(404, f"{which!r}: inputs or outputs")
    wf = await _source(request).workflow(ns, name)
    node = node_of(wf, request.match_info["node"])
    wanted = request.match_info["artifact"]
    found = next((a for a in (node.get(which) or {}).get("artifacts") or () if a.get("name") == wanted), None)
    if found is None:
        raise UiError(
            404, f"node {node.get('displayName') or node['id']} has no {which[:-1]} artifact {wanted!r}"
        )
    src = _source(request)
    path = await src.artifact(ns, name, found)
    filename = path.name.replace('"', "")
    response = web.StreamResponse(
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "application/octet-stream",
            "Content-Length": str(path.stat().st_size),
        }
    )
    with path.open("rb") as fh:  # streamed in chunks: an artifact may be large
        if src.artifact_copies:
            # A download from a store lives in a temporary folder of its own: removed now, while the open
            # file stays readable, so nothing is left behind even if this process ends mid-download.
            import shutil  # noqa: PLC0415

            shutil.rmtree(path.parent, ignore_errors=True)
        await response.prepare(request)
        while chunk := await asyncio.to_thread(fh.read, 1 << 20):
            await response.write(chunk)
    await response.write_eof()
    return response


async def _sse_start(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    return response


async def _send(response: web.StreamResponse, event: str, data: Any) -> None:
    await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())


async def _with_heartbeat(items: Any, response: web.StreamResponse) -> Any:
    """`items` (an async iterator), with a comment written whenever it is quiet for HEARTBEAT seconds."""
    iterator = items.__aiter__()
    pending = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT)
            if not done:
                await response.write(b": keep-alive\n\n")
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
            pending = asyncio.ensure_future(iterator.__anext__())
    finally:
        pending.cancel()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def workflow_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the graph and summary each time the workflow changes, then `end`."""
    ns, name = request.match_info["ns"], request.match_info["name"]
    src = _source(request)
    changes = src.changes(ns, name)
    expand = _expand(request)
    first = await changes.__anext__()  # a missing workflow is a plain 404, before the stream starts
    response = await _sse_start(request)
    last_sent = 0.0

    async def all_changes() -> Any:
        yield first
        async for wf in changes:
            yield wf

    try:
        async for wf in _with_heartbeat(all_changes(), response):
            gap = EVENT_MIN_GAP - (time.monotonic() - last_sent)
            if gap > 0:
                await asyncio.sleep(gap)
            payload = {
                "summary": summary(wf, time.time()),
                "graph": layout(wf, expand),
                "waiting": actions.waiting(wf),  # the suspend nodes a resume acts on (not all nodes: size)
                "actions": await actions.allowed(src, wf),
            }
            await _send(response, "workflow", payload)
            last_sent = time.monotonic()
        await _send(response, "end", {})
    except UiError as exc:
        await _send(response, "problem", {"error": exc.message})
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    return response


async def workflow_logs(request: web.Request) -> web.StreamResponse:
    ns, name = request.match_info["ns"], request.match_info["name"]
    q = request.query
    node = q.get("node") or None
    container = q.get("container") or "main"
    follow = q.get("follow") in ("1", "true")
    src = _source(request)
    wf = await src.workflow(ns, name)
    if node is not None:
        node = node_of(wf, node)["id"]
    lines = src.logs(ns, name, node, follow and phase(wf) not in DONE, container)
    if not follow:
        out = [f"{label}: {line}" if node is None else line async for label, line in lines]
        return web.Response(text="\n".join(out) + ("\n" if out else ""))
    response = await _sse_start(request)
    try:
        async for label, line in _with_heartbeat(lines, response):
            await _send(response, "line", {"node": label, "line": line})
        await _send(response, "end", {})
    except UiError as exc:
        await _send(response, "problem", {"error": exc.message})
    return response


async def post_action(request: web.Request) -> web.Response:
    ns, name, action = request.match_info["ns"], request.match_info["name"], request.match_info["action"]
    if request.content_type != "application/json":
        raise UiError(415, "actions take a JSON body (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise UiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise UiError(400, "the body must be a JSON object")
    return web.json_response(await actions.act(_source(request), ns, name, action, body))


def _kind_lister(kind: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        src = _source(request)
        namespace = request.query.get("namespace", src.namespace)
        items = await src.objects(kind, namespace or None)
        return web.json_response({"items": items, "mode": src.mode})

    return handler


def routes() -> list[web.RouteDef]:
    base = "/api/workflows/{ns}/{name}"
    return [
        web.get("/api/info", info),
        web.get("/api/workflows", list_workflows),
        web.get(base, get_workflow),
        web.get(base + "/nodes/{node}", get_node),
        web.get(base + "/events", workflow_events),
        web.get(base + "/logs", workflow_logs),
        web.get(base + "/artifacts/{node}/{io}/{artifact}", get_artifact),
        web.post(base + "/{action}", post_action),
        web.get("/api/cronworkflows", _kind_lister("CronWorkflow")),
        web.get("/api/workflowtemplates", _kind_lister("WorkflowTemplate")),
    ]
