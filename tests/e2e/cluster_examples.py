"""Which of Argo's examples the e2e cluster can run, decided from the YAML alone (as
tests/conformance/local_examples.py decides the local list), and the namespace they run in.

The local blockers apply, except those a cluster lifts (secret and ConfigMap volumes, the kernel's
mounts inside a container); a cluster adds its own: every image must be one the project's cluster
builds without a registry (cluster/build-images.sh), and resource templates stay out until the
executor runs them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.local_examples import Example, blockers, load_examples

LIFTED = {"secret/ConfigMap volumes need a cluster", "checks the container's kernel mounts"}
# Images the project's cluster has (cluster/build-images.sh); a name without a tag means :latest.
IMAGES = re.compile(
    r"^(docker\.io/)?(library/)?(busybox|alpine|python|debian)(:[\w.-]+)?$"
    r"|^(quay\.io/)?argoproj/argosay:v[12]$"
)


def images(doc: dict[str, Any]) -> set[str]:
    found = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            image = value.get("image")
            if isinstance(image, str) and image:
                found.add(image)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(doc.get("spec") or {})
    return found


BUDGET_SECONDS = 600
LOOP = re.compile(r"seq 1 (\d+)\b.*?sleep (\d+)")


def cluster_blockers(example: Example, support: dict[str, dict[str, Any]]) -> list[str]:
    if example.doc is None:
        return list(example.blockers)
    reasons = [b for b in example.blockers if b not in LIFTED]
    for match in LOOP.finditer(json.dumps(example.doc.get("spec") or {})):
        if int(match.group(1)) * int(match.group(2)) > BUDGET_SECONDS:
            reasons.append(
                f"runs longer than the e2e budget ({match.group(1)} iterations of {match.group(2)} s)"
            )
    missing = sorted(i for i in images(example.doc) if "{{" not in i and not IMAGES.match(i))
    if missing:
        reasons.append(f"images the test cluster does not have ({', '.join(missing)})")
    return reasons


def cluster_examples(root: Path) -> list[Example]:
    """Every example with its cluster blockers (runnable when there are none)."""
    import yaml

    support: dict[str, dict[str, Any]] = {}
    for path in (
        root / "workflow-template" / "templates.yaml",
        root / "cluster-workflow-template" / "clustertemplates.yaml",
    ):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                support[(doc.get("metadata") or {}).get("name")] = doc
    out = []
    for example in load_examples(root):
        example.blockers = cluster_blockers(example, support)
        out.append(example)
    return out


def support_objects(root: Path) -> list[dict[str, Any]]:
    """What the examples expect to find: their WorkflowTemplates, ClusterWorkflowTemplates, ConfigMaps."""
    import yaml

    out = []
    for rel in ("workflow-template/templates.yaml", "cluster-workflow-template/clustertemplates.yaml"):
        out += [d for d in yaml.safe_load_all((root / rel).read_text()) if isinstance(d, dict)]
    for path in sorted((root / "configmaps").glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    return out


def as_list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


__all__ = ["blockers", "cluster_examples", "support_objects"]
