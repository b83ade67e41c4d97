"""Expectations: pods this controller created that its pod informer has not shown yet.

The informer lags the API server by a few milliseconds to seconds. Without this cache a reconcile that
runs in that window sees no pod for a node the previous reconcile started, and the engine asks for it
again. The create would be harmless (deterministic names; AlreadyExists is success), but a pod that was
created, finished and already garbage-collected would be created a second time. So:

* `expect(wf, node_id, pod_name, now)` after a create (or an AlreadyExists);
* `observed(wf, node_id)` when the informer shows the pod (or its deletion);
* `pending(wf, now)` gives the node IDs still expected, which the reconciler shows the engine as
  Pending pods and never creates again; an expectation older than `ttl` lapses (the watch would have
  shown the pod by then; the next create then meets AlreadyExists or creates a truly missing pod).

Across restarts nothing is needed: a new leader waits until its informers have listed every pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Expectations:
    ttl: float = 300.0
    _pods: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)  # wf key -> node -> (pod, t)

    def expect(self, workflow: str, node_id: str, pod_name: str, now: float) -> None:
        self._pods.setdefault(workflow, {})[node_id] = (pod_name, now)

    def observed(self, workflow: str, node_id: str) -> None:
        nodes = self._pods.get(workflow)
        if nodes is not None:
            nodes.pop(node_id, None)
            if not nodes:
                del self._pods[workflow]

    def pending(self, workflow: str, now: float) -> dict[str, str]:
        """node ID -> pod name of the creations not yet observed (lapsed ones dropped)."""
        nodes = self._pods.get(workflow)
        if not nodes:
            return {}
        for node_id in [n for n, (_, t) in nodes.items() if now - t > self.ttl]:
            del nodes[node_id]
        if not nodes:
            del self._pods[workflow]
            return {}
        return {n: pod for n, (pod, _) in nodes.items()}

    def forget(self, workflow: str) -> None:
        self._pods.pop(workflow, None)

    def __len__(self) -> int:
        return sum(len(v) for v in self._pods.values())
