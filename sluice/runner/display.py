"""What `sluice run` shows: a live tree on a terminal (like `argo watch`), plain lines when piped.

Both show the steps' output as it comes (`<step>: <line>`). The tree is redrawn in place at most a few
times a second; plain mode prints one line per phase change of a step, so logs and CI read well.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

ICONS = {"Succeeded": "✔", "Failed": "✖", "Error": "⚠", "Pending": "◷", "Running": "●", "Skipped": "○",
         "Omitted": "○"}
COLORS = {"Succeeded": "32", "Failed": "31", "Error": "31", "Running": "36", "Pending": "33"}
SHOWN_TYPES = ("Pod", "Suspend", "Skipped", "Retry", "Steps", "DAG", "HTTP", "Plugin", "Container")


def _parse(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def duration(node: dict[str, Any], now: float) -> str:
    start = _parse(node.get("startedAt"))
    if start is None:
        return ""
    end = _parse(node.get("finishedAt")) or now
    seconds = max(0, int(round(end - start)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m"


def tree_rows(workflow: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, node) in display order: each steps/dag node over the nodes it bounds, retries over attempts."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    name = (workflow.get("metadata") or {}).get("name") or ""
    bounded: dict[str, list[dict[str, Any]]] = {}
    for node in nodes.values():
        if node.get("type") in ("StepGroup", "TaskGroup") or (node.get("nodeFlag") or {}).get("retried"):
            continue
        bounded.setdefault(node.get("boundaryID") or "", []).append(node)
    for members in bounded.values():
        members.sort(key=lambda n: (n.get("startedAt") or "", n["name"]))
    rows: list[tuple[int, dict[str, Any]]] = []

    def visit(node: dict[str, Any], depth: int) -> None:
        rows.append((depth, node))
        if node.get("type") == "Retry":
            kids = [nodes[c] for c in node.get("children") or () if c in nodes]
        elif node.get("type") in ("Steps", "DAG"):
            kids = bounded.get(node["id"], [])
        else:
            kids = []
        for kid in kids:
            visit(kid, depth + 1)

    root = nodes.get(name)
    if root is not None:
        visit(root, 0)
    for node in bounded.get("", []):
        if node["id"] != name:
            visit(node, 0)
    return rows


def render_tree(workflow: dict[str, Any], now: float, color: bool) -> list[str]:
    status = workflow.get("status") or {}
    meta = workflow.get("metadata") or {}
    phase = status.get("phase") or "Pending"
    lines = [f"{_paint('Name:', '1', color)}     {meta.get('name', '')}",
             f"{_paint('Status:', '1', color)}   {_paint(phase, COLORS.get(phase, '0'), color)}"
             + (f"  {status['message']}" if status.get("message") else "")]
    if status.get("progress"):
        lines.append(f"{_paint('Progress:', '1', color)} {status['progress']}")
    lines.append("")
    for depth, node in tree_rows(workflow):
        node_phase = node.get("phase") or "Pending"
        icon = _paint(ICONS.get(node_phase, "?"), COLORS.get(node_phase, "0"), color)
        label = node.get("displayName") or node["name"]
        template = (node.get("templateRef") or {}).get("template") or node.get("templateName") or ""
        text = f"{'  ' * depth}{icon} {label}"
        extra = "  ".join(x for x in (template, duration(node, now), node.get("message") or "") if x)
        lines.append(f"{text:<44} {extra}".rstrip())
    return lines


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


class Display:
    def __init__(self, out: TextIO | None = None, live: bool | None = None, logs: bool = True, quiet: bool = False,
                 logs_out: TextIO | None = None):
        self.out = out or sys.stderr
        # The steps' output: stdout for `sluice run x.yaml | grep` (progress stays on `out`, stderr).
        self.logs_out = logs_out or self.out
        self.live = self.out.isatty() if live is None else live
        self.color = self.live
        self.logs = logs
        self.quiet = quiet
        self.lock = threading.Lock()
        self._drawn = 0
        self._last_draw = 0.0
        self._phases: dict[str, str] = {}
        self._workflow: dict[str, Any] | None = None

    def _clear(self) -> None:
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if self._workflow is None:
            return
        lines = render_tree(self._workflow, time.time(), self.color)
        self.out.write("\n".join(lines) + "\n")
        self._drawn = len(lines)
        self._last_draw = time.time()
        self.out.flush()

    def log(self, step: str, line: str) -> None:
        if not self.logs or self.quiet:
            return
        with self.lock:
            if self.live:
                self._clear()
                self.out.flush()
                painted = self.logs_out is self.out or self.logs_out.isatty()
                self.logs_out.write(f"{_paint(step, '2', self.color and painted)}: {line}\n")
                self.logs_out.flush()
                self._draw()
            else:
                self.logs_out.write(f"{step}: {line}\n")
                self.logs_out.flush()

    def message(self, text: str) -> None:
        if self.quiet:
            return
        with self.lock:
            if self.live:
                self._clear()
                self.out.write(text + "\n")
                self._draw()
            else:
                self.out.write(text + "\n")
                self.out.flush()

    def update(self, workflow: dict[str, Any], force: bool = False) -> None:
        if self.quiet:
            return
        with self.lock:
            self._workflow = workflow
            if self.live:
                if force or time.time() - self._last_draw > 0.2:
                    self._clear()
                    self._draw()
                return
            nodes = (workflow.get("status") or {}).get("nodes") or {}
            for node in nodes.values():
                if node.get("type") not in SHOWN_TYPES:
                    continue
                phase = node.get("phase") or ""
                if self._phases.get(node["id"]) == phase:
                    continue
                self._phases[node["id"]] = phase
                label = node.get("displayName") or node["name"]
                stamp = datetime.now(UTC).strftime("%H:%M:%S")
                extra = f"  {node['message']}" if node.get("message") else ""
                self.out.write(f"{stamp} {phase:<9} {label}{extra}\n")
            self.out.flush()

    def finish(self, workflow: dict[str, Any]) -> None:
        if self.quiet:
            return
        with self.lock:
            self._workflow = workflow
            if self.live:
                self._clear()
                self._draw()
                self._drawn = 0
            else:
                status = workflow.get("status") or {}
                name = (workflow.get("metadata") or {}).get("name")
                message = f": {status['message']}" if status.get("message") else ""
                self.out.write(f"workflow {name} {status.get('phase')}{message}\n")
                self.out.flush()
