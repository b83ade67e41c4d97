"""What `sluice run` shows: a live tree on a terminal (like `argo watch`), plain lines when piped.

Both show the steps' output as it comes (`<step>: <line>`). The tree is redrawn in place at most a few
times a second; plain mode prints one line per phase change of a step, so logs and CI read well.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from sluice import output

ICONS = {
    "Succeeded": "✔",
    "Failed": "✖",
    "Error": "⚠",
    "Pending": "◷",
    "Running": "●",
    "Skipped": "○",
    "Omitted": "○",
}
COLORS = {"Succeeded": "32", "Failed": "31", "Error": "31", "Running": "36", "Pending": "33"}
SHOWN_TYPES = ("Pod", "Suspend", "Skipped", "Retry", "Steps", "DAG", "HTTP", "Plugin", "Container")


def duration(node: dict[str, Any], now: float) -> str:
    start = output.stamp(node.get("startedAt"))
    if start is None:
        return ""
    end = output.stamp(node.get("finishedAt")) or now
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


ENDED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})


def _workflow_name(workflow: dict[str, Any]) -> str:
    return str((workflow.get("metadata") or {}).get("name") or "")


def _waiting(node: dict[str, Any]) -> bool:
    return node.get("type") == "Suspend" and node.get("phase") == "Running"


_NODE_ID = re.compile(r"'([a-z0-9][-a-z0-9.]*-\d+)'")


def readable(message: str, workflow: dict[str, Any]) -> str:
    """A message with node IDs (`child 'wf-2869380869' failed`) shown as the steps' display names."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}

    def name(match: re.Match[str]) -> str:
        node = nodes.get(match.group(1))
        return f"'{node.get('displayName') or match.group(1)}'" if isinstance(node, dict) else match.group(0)

    return _NODE_ID.sub(name, message)


def failed_steps(workflow: dict[str, Any]) -> list[str]:
    """The steps whose own work failed (pods and suspends, not the steps/dag nodes over them), by their
    display name and template, as people know them: `failed: print (template say): Error (exit code 1)`."""
    out = []
    for _, node in tree_rows(workflow):
        if node.get("phase") not in ("Failed", "Error") or node.get("type") not in (
            "Pod",
            "Container",
            "Suspend",
        ):
            continue
        label = node.get("displayName") or node["name"]
        template = node.get("templateName") or (node.get("templateRef") or {}).get("template")
        about = f" (template {template})" if template and template != label else ""
        message = f": {node['message']}" if node.get("message") else ""
        out.append(f"failed: {label}{about}{message}")
    return out


def render_tree(workflow: dict[str, Any], now: float, color: bool) -> list[str]:
    status = workflow.get("status") or {}
    meta = workflow.get("metadata") or {}
    phase = status.get("phase") or "Pending"
    lines = [
        f"{_paint('Name:', '1', color)}     {meta.get('name', '')}",
        f"{_paint('Status:', '1', color)}   {_paint(phase, COLORS.get(phase, '0'), color)}"
        + (f"  {readable(status['message'], workflow)}" if status.get("message") else ""),
    ]
    if status.get("progress"):
        lines.append(f"{_paint('Progress:', '1', color)} {status['progress']}")
    lines.append("")
    for depth, node in tree_rows(workflow):
        node_phase = node.get("phase") or "Pending"
        icon = _paint(ICONS.get(node_phase, "?"), COLORS.get(node_phase, "0"), color)
        label = node.get("displayName") or node["name"]
        template = (node.get("templateRef") or {}).get("template") or node.get("templateName") or ""
        text = f"{'  ' * depth}{icon} {label}"
        message = readable(node.get("message") or "", workflow)
        extra = "  ".join(x for x in (template, duration(node, now), message) if x)
        lines.append(f"{text:<44} {extra}".rstrip())
    if any(_waiting(node) for _, node in tree_rows(workflow)):
        lines += ["", f"Waiting to be resumed: sluice resume {_workflow_name(workflow)}"]
    return lines


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


class Display:
    def __init__(
        self,
        out: TextIO | None = None,
        live: bool | None = None,
        logs: bool = True,
        quiet: bool = False,
        logs_out: TextIO | None = None,
    ):
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
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            for node in self._changed(workflow):
                label = node.get("displayName") or node["name"]
                extra = f"  {readable(node['message'], workflow)}" if node.get("message") else ""
                hint = f"  (resume with: sluice resume {_workflow_name(workflow)})" if _waiting(node) else ""
                self.out.write(f"{stamp} {node.get('phase') or '':<9} {label}{extra}{hint}\n")
            self.out.flush()

    def _changed(self, workflow: dict[str, Any]) -> list[dict[str, Any]]:
        """The shown nodes whose phase changed: ends first, deepest first, then starts in tree order, so a step's
        failure (the cause) is printed before its parents' (the effect)."""
        nodes = (workflow.get("status") or {}).get("nodes") or {}
        depth = {node["id"]: d for d, node in tree_rows(workflow)}
        changed = []
        for order, node in enumerate(nodes.values()):
            phase = node.get("phase") or ""
            if node.get("type") not in SHOWN_TYPES or self._phases.get(node["id"]) == phase:
                continue
            self._phases[node["id"]] = phase
            ended = phase in ENDED
            changed.append(((not ended, -depth.get(node["id"], 0) if ended else order), node))
        return [node for _, node in sorted(changed, key=lambda pair: pair[0])]

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
                message = f": {readable(status['message'], workflow)}" if status.get("message") else ""
                for line in failed_steps(workflow):
                    self.out.write(line + "\n")
                self.out.write(f"workflow {name} {status.get('phase')}{message}\n")
                self.out.flush()
