"""`sluice ui`: a 2,000-node graph in Chromium (issue 16: "a graph of 2,000 nodes stays responsive").

A finished local run is written with a synthetic status (the runner's own shape: a DAG node and 2,000
Pod tasks in 40 layers of 50, each depending on one or two tasks of the layer above; phases mixed), a
real `sluice ui --local` serves it, and Debian's Chromium (Playwright, tests/integration/ui_support.py)
opens the workflow's page. Measured, median of RUNS page loads:

- time to the graph's first paint: from navigation start to the frame after the SVG was drawn
  (sluice/ui/static/app.js records it in window.sluiceTimings);
- the script's draw of the SVG alone, the server's layout (sluice/ui/layout.py, in process) and the size
  of one event (what every live update sends);
- a live redraw: workflow.json rewritten with one phase changed, until the page shows it;
- a click on a node until its details are shown.
The same for a loop of 2,000 items, drawn collapsed (the default) and expanded.

    .venv/bin/python benchmarks/bench_ui.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sluice.ui.layout import layout  # noqa: E402
from tests.integration.ui_support import chromium_path, launch_chromium, ui_server  # noqa: E402

RUNS = 5
WIDTH, DEPTH = 50, 40
STAMP = "2026-12-06T08:00:00Z"


def pod(nid: str, display: str, phase: str, children: list[str]) -> dict:
    return {
        "id": nid,
        "name": f"big.{display}",
        "displayName": display,
        "type": "Pod",
        "templateName": "work",
        "phase": phase,
        "boundaryID": "big",
        "startedAt": STAMP,
        "finishedAt": STAMP,
        "children": children,
        "inputs": {"parameters": [{"name": "x", "value": display}]},
        "outputs": {"exitCode": "0"},
    }


def dag_workflow(name: str) -> dict:
    rng = random.Random(16)
    ids = [[f"{name}-{layer}-{k}" for k in range(WIDTH)] for layer in range(DEPTH)]
    children: dict[str, list[str]] = {i: [] for row in ids for i in row}
    for layer in range(1, DEPTH):
        for k, nid in enumerate(ids[layer]):
            for parent in {ids[layer - 1][k], ids[layer - 1][rng.randrange(WIDTH)]}:
                children[parent].append(nid)
    nodes = {name: {"id": name, "name": name, "displayName": name, "type": "DAG", "phase": "Running",
                    "startedAt": STAMP, "children": ids[0]}}  # fmt: skip
    for layer, row in enumerate(ids):
        for k, nid in enumerate(row):
            phase = (
                "Succeeded"
                if layer < DEPTH - 3
                else rng.choice(["Running", "Pending", "Failed", "Succeeded"])
            )
            nodes[nid] = pod(nid, f"t{layer}-{k}", phase, children[nid])
    return wrap(name, nodes)


def loop_workflow(name: str, count: int = 2000) -> dict:
    items = [f"{name}-i{k}" for k in range(count)]
    nodes = {
        name: {"id": name, "name": name, "displayName": name, "type": "Steps", "phase": "Running",
               "children": [f"{name}-g0"], "outboundNodes": [f"{name}-end"]},
        f"{name}-g0": {"id": f"{name}-g0", "name": f"{name}[0]", "displayName": "[0]", "type": "StepGroup",
                       "phase": "Running", "children": items, "boundaryID": name},
        f"{name}-g1": {"id": f"{name}-g1", "name": f"{name}[1]", "displayName": "[1]", "type": "StepGroup",
                       "phase": "Pending", "children": [f"{name}-end"], "boundaryID": name},
        f"{name}-end": pod(f"{name}-end", "end", "Pending", []),
    }  # fmt: skip
    for k, nid in enumerate(items):
        nodes[nid] = pod(nid, f"item({k}:{k})", "Succeeded" if k % 7 else "Running", [f"{name}-g1"])
    return wrap(name, nodes)


def wrap(name: str, nodes: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": STAMP},
        "spec": {"entrypoint": "main"},
        "status": {"phase": "Running", "startedAt": STAMP, "nodes": nodes},
    }


def save(home: Path, wf: dict) -> Path:
    path = home / "runs" / wf["metadata"]["name"] / "workflow.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(wf))
    return path


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} (min {min(values):.0f}, max {max(values):.0f})"


def measure(browser, url: str, home: Path, wf: dict, query: str = "") -> dict:
    name = wf["metadata"]["name"]
    path = save(home, wf)
    with urllib.request.urlopen(f"{url}/api/workflows/default/{name}{query}", timeout=120) as resp:
        payload = len(resp.read())
    expand = frozenset(query.partition("expand=")[2].split(",")) - {""}
    layout_ms = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        graph = layout(wf, expand)
        layout_ms.append((time.perf_counter() - t0) * 1000)
    paint, draw, redraw, click = [], [], [], []
    for run in range(RUNS):
        save(home, wf)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/workflows/default/{name}{query}")
        page.wait_for_function("window.sluiceTimings && window.sluiceTimings.firstGraphPainted")
        timings = page.evaluate("window.sluiceTimings")
        paint.append(timings["firstGraphPainted"])
        draw.append(timings["renders"][0])
        shown = page.locator("#graph .node").count()
        # a live update: one task's phase changes in workflow.json; the page redraws from the event
        changed = json.loads(json.dumps(wf))
        target = next(n for n in changed["status"]["nodes"].values() if n["type"] == "Pod")
        target["phase"] = "Error" if run % 2 == 0 else "Omitted"
        t0 = time.perf_counter()
        path.write_text(json.dumps(changed))
        page.wait_for_selector(f'#graph .node[data-id="{target["id"]}"][data-phase="{target["phase"]}"]')
        redraw.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        page.locator(f'#graph .node[data-id="{target["id"]}"]').click()
        page.locator("#details h2").wait_for()
        click.append((time.perf_counter() - t0) * 1000)
        page.close()
    return {
        "nodes drawn": shown,
        "layout ms (server)": median_ms(layout_ms),
        "graph JSON bytes": payload,
        "first paint ms": median_ms(paint),
        "SVG draw ms (script)": median_ms(draw),
        "live update to screen ms": median_ms(redraw),
        "click to details ms": median_ms(click),
        "edges": len(graph["edges"]),
    }


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        print("Chromium is missing (scripts/install-browser.sh)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / "runs").mkdir(parents=True)
        with ui_server(home) as url, sync_playwright() as p:
            browser = launch_chromium(p, chromium)
            cases = [
                ("DAG, 2,000 tasks", dag_workflow("big-dag"), ""),
                ("loop of 2,000 items, collapsed", loop_workflow("big-loop"), ""),
                ("loop of 2,000 items, expanded", loop_workflow("big-loop"), "?expand=all"),
            ]
            for label, wf, query in cases:
                print(f"{label}: {json.dumps(measure(browser, url, home, wf, query), indent=1)}", flush=True)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
