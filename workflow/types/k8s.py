"""Kubernetes core types used inside Argo objects, from the generated module (tools/gen_k8s_types.py).

Every generated type is re-exported here except `HTTPHeader`, a name Argo's HTTP template uses for its own
type (the Kubernetes probe header is `k8s_generated.HTTPHeader`).
"""

from __future__ import annotations

from workflow.types import k8s_generated
from workflow.types.k8s_generated import *  # noqa: F403  (the generated module's __all__)

_SHADOWED = {"HTTPHeader"}

__all__ = [name for name in k8s_generated.__all__ if name not in _SHADOWED]
