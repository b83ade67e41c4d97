"""Which of Argo's examples can run on this machine with `sluice run`, and running one of them.

An example can run locally unless it needs something only a cluster or a remote service has; the
reasons are decided from the YAML alone (`blockers`), so the list is the same on every machine:
resource/data/http/plugin templates (a Kubernetes API, an artifact repository, the agent), sidecars and
daemons (their images' servers), containerSet templates (several images in one pod), artifacts in a
remote store (git, http, a named S3 bucket, GCS, Azure...), secret/ConfigMap volumes, hostAliases, Windows images,
commands that reach the internet. Examples Argo labels `no-test: duration` that outlast the time budget
are reported as too long, not as failures.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
REMOTE_ARTIFACTS = ("git", "http", "gcs", "azure", "oss", "hdfs", "artifactory", "plugin")
SUPPORT = (
    "configmaps",
    "workflow-template/templates.yaml",
    "cluster-workflow-template/clustertemplates.yaml",
)
BUDGET_SECONDS = 420
TEMPLATE_KEYS = ("container", "script", "steps", "dag", "suspend", "inputs", "outputs", "retryStrategy")


@dataclass
class Example:
    file: str
    expected: str
    probabilistic: bool
    suspends: bool
    doc: dict[str, Any] | None
    blockers: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return self.doc is not None and not self.blockers


def _walk(value: Any):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _templates(doc: dict[str, Any], support: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    spec = doc.get("spec") or {}
    templates = list(spec.get("templates") or [])
    ref = spec.get("workflowTemplateRef")
    names = set()
    if isinstance(ref, dict) and ref.get("name"):
        names.add(ref["name"])
    for item in _walk(spec):
        if isinstance(item.get("templateRef"), dict) and item["templateRef"].get("name"):
            names.add(item["templateRef"]["name"])
    for name in names:
        templates.extend((support.get(name) or {}).get("spec", {}).get("templates") or [])
    return [t for t in templates if isinstance(t, dict)]


def blockers(doc: dict[str, Any], support: dict[str, dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def add(reason: str) -> None:
        if reason not in found:
            found.append(reason)

    templates = _templates(doc, support)
    for item in _walk(templates):
        for inline in (item.get("inline"),):
            if isinstance(inline, dict):
                templates.append(inline)
    for tmpl in templates:
        for kind, reason in (
            ("resource", "resource templates need a Kubernetes API"),
            ("data", "data templates read an artifact repository"),
            ("http", "http templates run in Argo's agent pod"),
            ("plugin", "plugin templates need an executor plugin"),
        ):
            if tmpl.get(kind) is not None:
                add(reason)
        if tmpl.get("sidecars"):
            add("sidecars need their images' servers")
        if tmpl.get("daemon"):
            add("daemons need their images' servers")
        for vol in tmpl.get("volumes") or ():
            if any(k in vol for k in ("secret", "configMap", "projected")):
                add("secret/ConfigMap volumes need a cluster")
    spec = doc.get("spec") or {}
    if spec.get("hostAliases") or any(t.get("hostAliases") for t in templates):
        add("hostAliases need the pod's /etc/hosts")
    for vol in spec.get("volumes") or ():
        if any(k in vol for k in ("secret", "configMap", "projected")):
            add("secret/ConfigMap volumes need a cluster")
    for item in _walk([spec, templates]):
        if any(k in item for k in TEMPLATE_KEYS):
            continue  # a template (an http template is not an http artifact)
        for kind in REMOTE_ARTIFACTS:
            if isinstance(item.get(kind), dict) and ("name" in item or "path" in item):
                add(f"{kind} artifacts live in a remote store")
        s3 = item.get("s3")
        remote_s3 = isinstance(s3, dict) and (s3.get("bucket") or s3.get("endpoint")) and "name" in item
        if remote_s3 and any(
            item is a for t in templates for a in ((t.get("inputs") or {}).get("artifacts") or ())
        ):
            add("input artifacts from a remote S3 bucket")
        image = item.get("image")
        if isinstance(image, str) and "windows" in image:
            add("Windows images")
    text = json.dumps(templates)
    if any(word in text for word in ("https://", "http://", "curl ", "wget ")):
        add("commands reach the network")
    for word in ("kubectl ", "argo submit", "influx "):
        if word in text:
            add(f"commands use `{word.strip()}`")
    if "/proc/mounts" in text:
        add("checks the container's kernel mounts")
    return found


def load_examples(root: Path) -> list[Example]:
    support: dict[str, dict[str, Any]] = {}
    for path in (
        root / "workflow-template" / "templates.yaml",
        root / "cluster-workflow-template" / "clustertemplates.yaml",
    ):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                support[(doc.get("metadata") or {}).get("name")] = doc
    out = []
    with open(root / "expected.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            phase = row["expected_phase"]
            if phase.startswith("n/a"):
                continue
            try:
                docs = [
                    d for d in yaml.safe_load_all((root / row["file"]).read_text()) if isinstance(d, dict)
                ]
            except yaml.YAMLError:
                docs = []
            doc = next((d for d in docs if d.get("kind") == "Workflow"), None)
            example = Example(
                file=row["file"],
                expected="Succeeded" if "then Succeeded" in phase else phase.split(" ")[0],
                probabilistic="probabilistic" in phase,
                suspends="until resumed" in phase,
                doc=doc,
            )
            if doc is None:
                example.blockers.append("no Workflow in the file")
            else:
                meta = doc.get("metadata") or {}
                if not (meta.get("name") or meta.get("generateName")):
                    example.blockers.append("the Workflow has no name (generateName is misplaced)")
                example.blockers.extend(blockers(doc, support))
            out.append(example)
    return out


def expected_seconds(root: Path, example: Example) -> float:
    """A rough static guess (the `sleep`s in the file), to start the long examples first."""
    text = (root / example.file).read_text()
    total = 0.0
    for match in re.finditer(r"sleep\s+(\d+)([smh]?)", text):
        total += int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return total


@dataclass
class Outcome:
    phase: str
    message: str
    seconds: float
    timed_out: bool = False


def run_example(root: Path, example: Example, home: Path, budget: float = BUDGET_SECONDS) -> Outcome:
    """`sluice run` the example (resuming its suspend steps when it waits on one)."""
    name = "conf-" + example.file.replace("/", "-").replace(".yaml", "").replace("_", "-").lower()[:50]
    cmd = [
        sys.executable,
        "-m",
        "sluice",
        "run",
        str(root / example.file),
        "--name",
        name,
        "--quiet",
        "-o",
        "json",
    ]
    for support in SUPPORT:
        cmd += ["--templates", str(root / support)]
    env = dict(os.environ, SLUICE_HOME=str(home))
    started = time.time()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    run_dir = home / "runs" / name
    resumed: set[str] = set()
    while proc.poll() is None:
        if time.time() - started > budget:
            proc.kill()
            proc.communicate()
            return Outcome("", "time budget exceeded", time.time() - started, timed_out=True)
        if example.suspends:
            _resume_waiting(run_dir, name, env, resumed)
        time.sleep(0.25)
    out, err = proc.communicate()
    try:
        status = json.loads(out).get("status") or {}
    except ValueError:
        return Outcome("", (err or out).strip()[-300:], time.time() - started)
    return Outcome(status.get("phase") or "", status.get("message") or "", time.time() - started)


def _resume_waiting(run_dir: Path, name: str, env: dict[str, str], resumed: set[str]) -> None:
    try:
        workflow = json.loads((run_dir / "workflow.json").read_text())
    except (OSError, ValueError):
        return
    for node in ((workflow.get("status") or {}).get("nodes") or {}).values():
        if node.get("type") == "Suspend" and node.get("phase") == "Running" and node["id"] not in resumed:
            resumed.add(node["id"])
            params = []
            for param in (node.get("outputs") or {}).get("parameters") or ():
                if "supplied" in (param.get("valueFrom") or {}) and param.get("value") is None:
                    params += ["-p", f"{param['name']}=resumed"]
            subprocess.run(
                [sys.executable, "-m", "sluice", "resume", name, "--node", node["id"], *params],
                env=env,
                cwd=REPO,
                capture_output=True,
                check=False,
            )
