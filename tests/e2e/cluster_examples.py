"""Which of Argo's examples the e2e cluster can run, decided from the YAML alone (as
tests/conformance/local_examples.py decides the local list), and the namespace they run in.

The local blockers apply, except those a cluster lifts (secret and ConfigMap volumes, the kernel's
mounts inside a container); a cluster adds its own: every image must be one the project's cluster
builds without a registry (cluster/build-images.sh), and resource templates stay out until the
executor runs them.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from conformance.local_examples import Example, _templates, blockers, load_examples

LIFTED = {"secret/ConfigMap volumes need a cluster", "checks the container's kernel mounts"}
RENAMED = {
    "resource templates need a Kubernetes API": "resource templates need rights on the objects they manage "
    "(the e2e service account has the executor's only); not run here yet",
}
# Images the project's cluster has, by the names cluster/build-images.sh gives them (no tag: latest).
TAGS = {
    "busybox": {"latest", "1.35", "1.36", "1.37", "stable"},
    "alpine": {"latest", "3", "3.19", "3.20", "3.21", "3.22", "3.23"},
    "python": {"alpine3.23", "3", "3.11", "3.11-slim", "3-slim", "3.12", "3.13", "slim", "latest", "alpine"},
    "debian": {"latest", "bookworm", "12", "bookworm-slim"},
    "argoproj/argosay": {"v1", "v2"},
    "quay.io/argoproj/argosay": {"v2"},
}


def on_cluster(image: str) -> bool:
    name, _, tag = image.partition(":")
    name = name.removeprefix("docker.io/").removeprefix("library/")
    return (tag or "latest") in TAGS.get(name, ())


def images(doc: dict[str, Any], support: dict[str, dict[str, Any]]) -> set[str]:
    found = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            image, tag = value.get("image"), value.get("tag")
            if isinstance(image, str) and isinstance(tag, str):
                found.add(f"{image}:{tag}")  # loop items that a templated `image:` is built from
            elif isinstance(image, str) and image:
                found.add(image)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value.lstrip().startswith("["):
            with contextlib.suppress(ValueError):  # a JSON list in a parameter's value (withParam items)
                walk(json.loads(value))

    walk(doc.get("spec") or {})
    walk(_templates(doc, support))  # what its templateRefs and workflowTemplateRef bring in
    return found


BUDGET_SECONDS = 600
LOOP = re.compile(r"seq 1 (\d+)\b.*?sleep (\d+)")


def cluster_blockers(example: Example, support: dict[str, dict[str, Any]]) -> list[str]:
    if example.doc is None:
        return list(example.blockers)
    reasons = [RENAMED.get(b, b) for b in example.blockers if b not in LIFTED]
    for match in LOOP.finditer(json.dumps(example.doc.get("spec") or {})):
        if int(match.group(1)) * int(match.group(2)) > BUDGET_SECONDS:
            reasons.append(
                f"runs longer than the e2e budget ({match.group(1)} iterations of {match.group(2)} s)"
            )
    text = json.dumps(example.doc.get("spec") or {})
    if '"persistentVolumeClaim"' in text or '"volumeClaimTemplates"' in text:
        reasons.append("PersistentVolumeClaims need a storage provisioner (the test cluster has none)")
    if '"resourceClaims"' in text:
        reasons.append("ResourceClaims need a device driver (dynamic resource allocation)")
    if re.search(r'"s3": \{[^{}]*"(endpoint|bucket)"', text):
        reasons.append("artifacts in a named remote S3 bucket (pods never leave this machine)")
    for cpu in re.findall(r'\\?"cpu\\?": \\?"(\d+)(m?)\\?"', text):
        if int(cpu[0]) / (1000 if cpu[1] else 1) >= 2:
            reasons.append("asks for 2 CPUs or more, all the test node has")
            break
    missing = sorted(i for i in images(example.doc, support) if "{{" not in i and not on_cluster(i))
    if missing:
        reasons.append(f"images the test cluster does not have ({', '.join(missing)})")
    return reasons


def depends_on_chance(example: Example) -> bool:
    """Random exits under a time limit (retry-backoff.yaml: retries of a 1-in-3 success within maxDuration):
    whether it succeeds depends on chance and on how fast pods start, so only finishing is checked."""
    text = json.dumps((example.doc or {}).get("spec") or {})
    return "random" in text and ("maxDuration" in text or "activeDeadlineSeconds" in text)


LOCAL_OUTCOMES = Path(__file__).resolve().parents[1] / "conformance" / "local_run_expected.tsv"
LIKELY_RUNS = 3  # as tests/conformance/test_local_run.py


def likely_examples() -> set[str]:
    """Examples that draw random numbers and end in their phase almost always (`likely:` in
    tests/conformance/local_run_expected.tsv, e.g. three steps each succeeding 1 time in 3 within 11
    attempts: ~3% Failed): one improbable run is re-run, up to LIKELY_RUNS runs in all."""
    rows = (line.split("\t") for line in LOCAL_OUTCOMES.read_text().splitlines()[1:] if line)
    return {row[0] for row in rows if len(row) > 1 and row[1].startswith("likely:")}


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
        example.probabilistic = example.probabilistic or depends_on_chance(example)
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


__all__ = ["LIKELY_RUNS", "blockers", "cluster_examples", "likely_examples", "support_objects"]
