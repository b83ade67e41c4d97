"""Following a workflow on the cluster until it ends: `wait`, `watch`, `submit --wait/--watch`.

Polls one GET a second (bounded, survives API server restarts and watch expiry without resuming
logic) and draws the tree of sluice/runner/display.py, redrawn in place on a terminal, once per change
when piped.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, TextIO

from sluice.cli import EXIT_FAILED, EXIT_OK
from sluice.cluster import ARGO, Cluster
from sluice.output import DONE, phase

POLL_SECONDS = 1.0


def exit_code(wf: dict[str, Any]) -> int:
    return EXIT_OK if phase(wf) == "Succeeded" else EXIT_FAILED


async def until_done(
    cluster: Cluster, name: str, *, timeout: float | None = None, on_change: Any = None
) -> dict[str, Any] | None:
    """The workflow once its phase is Succeeded/Failed/Error; None if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout if timeout else None
    seen = None
    while True:
        wf = await cluster.rest.get(ARGO, "Workflow", cluster.namespace, name)
        version = wf["metadata"].get("resourceVersion")
        if on_change is not None and version != seen:
            on_change(wf)
        seen = version
        if phase(wf) in DONE:
            return wf
        if deadline is not None and time.monotonic() >= deadline:
            return None
        await asyncio.sleep(POLL_SECONDS)


class TreeView:
    """Draws the workflow's tree each time it changes."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.live = self.out.isatty()
        self._drawn = 0

    def __call__(self, wf: dict[str, Any]) -> None:
        from sluice.output import with_nodes  # noqa: PLC0415
        from sluice.runner.display import render_tree  # noqa: PLC0415

        lines = render_tree(with_nodes(wf), time.time(), self.live)
        if self.live and self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
        elif not self.live and self._drawn:
            self.out.write("\n")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self._drawn = len(lines)
