"""The runs of `sluice run` on this machine, for `list|get|logs|delete --local` (the same verbs as a cluster).

Each run lives in `<home>/runs/<name>/` (sluice/runner/state.py: $SLUICE_HOME, else
$XDG_STATE_HOME/sluice, else ~/.local/state/sluice): `workflow.json` is its latest status, `pid` is
there while it runs, and `pods/<pod>/stdout` (or `<container>.stdout`) holds each step's output.
`delete --local` removes a finished run's directory; a running run is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sluice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE
from sluice.cluster import CliError


def _runs_dir() -> Path:
    from sluice.runner import state  # noqa: PLC0415

    return state.home() / "runs"


def load(name: str) -> dict[str, Any]:
    path = _runs_dir() / name / "workflow.json"
    try:
        wf = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"no local run named {name!r} (in {_runs_dir()})", EXIT_NOT_FOUND) from None
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: unreadable ({exc})", EXIT_FAILED) from None
    wf.setdefault("metadata", {}).setdefault("name", name)
    return wf


def all_runs() -> list[dict[str, Any]]:
    root = _runs_dir()
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir()):
        if (entry / "workflow.json").is_file():
            try:
                wf = load(entry.name)
            except CliError:
                continue
            meta = wf["metadata"]
            if not meta.get("creationTimestamp"):
                meta["creationTimestamp"] = (wf.get("status") or {}).get("startedAt")
            out.append(wf)
    return out


def labelled(runs: list[dict[str, Any]], selector: str | None) -> list[dict[str, Any]]:
    """The runs whose labels (from their workflow file) match kubectl's equality-based `selector`."""
    if not selector:
        return runs
    from sluice.labels import label_match, label_problem  # noqa: PLC0415

    problem = label_problem(selector)
    if problem:
        raise CliError(f"-l: {problem}", EXIT_USAGE)
    return [wf for wf in runs if label_match((wf.get("metadata") or {}).get("labels") or {}, selector)]


def delete(name: str) -> None:
    from sluice.runner import state  # noqa: PLC0415

    target = _runs_dir() / name
    if state.name_problem(name) or not target.is_dir() or target.parent != _runs_dir():
        raise CliError(f"no local run named {name!r} (in {_runs_dir()})", EXIT_NOT_FOUND)
    try:  # the name's lock, so a run starting with this name now cannot lose its files
        lock = state.NameLock(name)
    except state.NameInUse:
        raise CliError(f"local run {name!r} is still running", EXIT_FAILED) from None
    except OSError as exc:
        raise CliError(f"local run {name!r}: cannot take its lock: {exc}", EXIT_FAILED) from None
    try:
        if name in state.active_runs():
            raise CliError(f"local run {name!r} is still running", EXIT_FAILED)
        shutil.rmtree(target)
    finally:
        lock.release()


def pod_logs(wf: dict[str, Any], node: str | None, container: str) -> list[tuple[str, Path]]:
    """(node display name, output file) of each step of the run (or of `node`), in start order."""
    from workflow.names import pod_name  # noqa: PLC0415

    name = wf["metadata"]["name"]
    pods_dir = _runs_dir() / name / "pods"
    nodes = sorted(
        ((wf.get("status") or {}).get("nodes") or {}).values(), key=lambda n: n.get("startedAt") or ""
    )
    out = []
    for n in nodes:
        if n.get("type") != "Pod":
            continue
        if node is not None and node not in (n.get("id"), n.get("name"), n.get("displayName")):
            continue
        template = (n.get("templateRef") or {}).get("template") or n.get("templateName")
        for pod in (pod_name(name, n["name"], template), n["id"]):
            path = pods_dir / pod / ("stdout" if container == "main" else f"{container}.stdout")
            if path.is_file():
                out.append((n.get("displayName") or n["name"], path))
                break
    return out
