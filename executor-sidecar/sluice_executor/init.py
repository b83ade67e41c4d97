"""`init`: prepare the pod before `main` starts (Argo's `argoexec init`; docs/architecture.md, "The pod").

Stages the launcher into the shared volume (main's entrypoint: /var/run/argo/launcher), writes the
template (/var/run/argo/template, read-only) for the launcher, the script source
(/argo/staging/script), and downloads every input artifact into /argo/inputs/artifacts/<name>, which
the pod mounts at the artifact's path (sub-path mounts, workflow/engine/pods.py). An error is written
to the termination log and makes `init` exit 1, so the node says what went wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from sluice_executor import transfer
from sluice_executor.podenv import PodEnv
from sluice_executor.resource import manifest_artifact
from sluice_executor.wait import write_termination_log

LAUNCHER_SOURCE = Path("/usr/local/bin/sluice-launcher")


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)


def stage(env: PodEnv, launcher: Path) -> None:
    layout = env.layout
    layout.run.mkdir(parents=True, exist_ok=True)
    tmp = layout.launcher.with_name(".launcher.tmp")
    shutil.copyfile(launcher, tmp)
    tmp.chmod(0o755)
    os.replace(tmp, layout.launcher)
    _write(layout.template, json.dumps(env.template, separators=(",", ":")).encode(), 0o444)
    script = env.template.get("script")
    if isinstance(script, dict):
        _write(layout.staging / "script", str(script.get("source") or "").encode(), 0o755)


def load_inputs(env: PodEnv, drivers: transfer.DriverFor) -> list[str]:
    location = env.template.get("archiveLocation")
    location = location if isinstance(location, dict) else None
    errors = []
    resource = env.template.get("resource")
    # a resource template's `manifestFrom` artifact is read by its main from the volume: it needs no path
    manifest = manifest_artifact(resource) if isinstance(resource, dict) else None
    for art in (env.template.get("inputs") or {}).get("artifacts") or ():
        if not isinstance(art, dict) or not art.get("name"):
            continue
        if not art.get("path") and art.get("name") != manifest:
            continue
        target = env.layout.inputs / str(art["name"])
        try:
            loaded = transfer.load_input(art, target, location, drivers, env.layout.inputs / ".scratch")
        except transfer.ArtifactError as exc:
            errors.append(str(exc))
            continue
        except Exception as exc:  # anything unforeseen still names the artifact, never a bare traceback
            errors.append(f"input artifact {art['name']}: {type(exc).__name__}: {exc}")
            continue
        if not loaded:
            print(f"init: optional input artifact {art['name']} is absent", file=sys.stderr)
    shutil.rmtree(env.layout.inputs / ".scratch", ignore_errors=True)
    return errors


def run_init(env: PodEnv, drivers: transfer.DriverFor, launcher: Path = LAUNCHER_SOURCE) -> int:
    errors: list[str] = []
    try:
        stage(env, launcher)
    except OSError as exc:
        errors.append(f"staging the launcher and template: {exc}")
    if not errors:
        errors.extend(load_inputs(env, drivers))
    if errors:
        write_termination_log(env.layout.termination_log, errors)
        for error in errors:
            print(f"init: {error}", file=sys.stderr)
        return 1
    return 0
