"""One engine step's working state: what the step is about, what it decides, and the parts it is made of.

The input workflow is never mutated. The parts, each in its own module:
- the nodes of the new status, with their lookups, writes and counters: `nodes` (engine/nodes.py);
- the workflow's global scope (`workflow.*`, global parameters and outputs): `globals` (built and
  written by engine/scope.py);
- the node and workflow events, emitted from the phase changes once the tree is executed
  (engine/events.py); locks are asked for and released as actions (engine/locks.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflow.engine import clock
from workflow.engine.model import Action, Observed
from workflow.engine.nodes import NodeStore


class Operation:
    """One step's working state; every module of the engine reads and writes the workflow through it.

    - what the step is about: `workflow` (normalised, never mutated), `name`, `namespace`, `uid`,
      `observed`, `config`, `now` / `now_s`;
    - what it decides: `status` (under construction; its `nodes` are `nodes.map`), `actions` (`act`),
      `wake_at` (`wake`);
    - its parts: `nodes` (engine/nodes.py), `globals` (engine/scope.py).
    """

    def __init__(self, workflow: dict[str, Any], observed: Observed, now: datetime):
        meta = workflow.get("metadata") or {}
        self.workflow = workflow
        self.name: str = meta.get("name") or ""
        self.namespace: str = meta.get("namespace") or "default"
        self.uid: str = meta.get("uid") or ""
        self.observed = observed
        self.config = observed.config
        self.now = now
        self.now_s = clock.stamp(now)
        old = workflow.get("status") or {}
        self.status: dict[str, Any] = dict(old)
        self.nodes = NodeStore(self.name, old.get("nodes") or {}, self.now_s)
        self.status["nodes"] = self.nodes.map
        self.globals: dict[str, Any] = {}
        self.actions: list[Action] = []
        self.wake_at: datetime | None = None

    def act(self, action: Action) -> None:
        self.actions.append(action)

    def wake(self, moment: datetime | None) -> None:
        """Ask to be stepped again at `moment` (the earliest request wins)."""
        if moment is None:
            return
        if self.wake_at is None or moment < self.wake_at:
            self.wake_at = moment
