"""The user's containers in a pod: `main` (a containerSet's members), sidecars and init containers.

`main` and the sidecars run under the static launcher `init` stages (`/var/run/argo/launcher --
<command>`, executor-sidecar/launcher); a container with no `command` takes its image's entrypoint from
the config's `images`, and without it the node fails saying how to fix it. Main's volume mounts are
mirrored read-only into `wait` under /mainctrfs, and into a user init container or sidecar that asks
with `mirrorVolumeMounts: true`.
"""

from __future__ import annotations

import copy
from typing import Any

from workflow.engine.model import EngineConfig

LAUNCHER = "/var/run/argo/launcher"
EXECUTOR_COMMAND = ["sluice", "executor"]
SCRIPT_PATH = "/argo/staging/script"
MAINCTRFS = "/mainctrfs"
EXECUTOR_VOLUMES = frozenset({"var-run-argo", "tmp-dir-argo", "argo-staging", "input-artifacts"})


class PodSpecError(ValueError):
    """The template cannot become a pod (the node fails with this message)."""


def _image_repo(image: str) -> str:
    """`docker.io/library/busybox:1.36` -> `busybox` (digest and tag dropped), for the `images` lookup."""
    name = image.strip().rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


def _entrypoint(container: dict[str, Any], config: EngineConfig) -> tuple[list[str], list[str]] | None:
    """(command, args) from the image's entrypoint/cmd in the config's `images`, as Argo's controller finds
    them; None when the image is not listed."""
    image = str(container.get("image") or "")
    known = config.images.get(image) or config.images.get(_image_repo(image))
    if not isinstance(known, dict):
        return None
    command = [str(c) for c in known.get("entrypoint") or known.get("command") or ()]
    args = [str(a) for a in container.get("args") or known.get("cmd") or ()]
    if not command:
        command, args = args[:1], args[1:]
    return command, args


def wrap(container: dict[str, Any], config: EngineConfig, where: str) -> dict[str, Any]:
    """Run the container's command under the launcher; args stay as the user wrote them."""
    container = dict(container)
    command = [str(c) for c in container.get("command") or ()]
    if not command:
        found = _entrypoint(container, config)
        if found is not None:
            command, args = found
            if args:
                container["args"] = args
        elif config.require_command:
            raise PodSpecError(
                f"{where}: image {container.get('image')!r} has no `command` and its entrypoint is unknown: "
                "set `command` in the template, or list the image's entrypoint in the controller's `images` config"
            )
    container["command"] = [LAUNCHER, "--", *command]
    return container


def mount(container: dict[str, Any], volume_mount: dict[str, Any]) -> None:
    """Add a volume mount to the container, unless one is already at that path."""
    mounts = list(container.get("volumeMounts") or [])
    if not any(m.get("mountPath") == volume_mount["mountPath"] for m in mounts):
        mounts.append(volume_mount)
    container["volumeMounts"] = mounts


def mirror_mounts(wait: dict[str, Any], mains: list[dict[str, Any]]) -> None:
    """Main's volume mounts (every member's, for a containerSet) re-mounted read-only into `wait` under
    /mainctrfs, where it reads outputs written on a volume (as Argo mirrors them): a
    containerSet member other than `main` can only leave outputs there."""
    for container in mains:
        for volume_mount in container.get("volumeMounts") or ():
            if not isinstance(volume_mount, dict) or volume_mount.get("name") in EXECUTOR_VOLUMES:
                continue
            path = str(volume_mount.get("mountPath") or "")
            if not path.startswith("/"):
                continue
            mirrored = {
                "name": volume_mount.get("name"),
                "mountPath": MAINCTRFS + path.rstrip("/"),
                "readOnly": True,
            }
            for key in ("subPath", "subPathExpr"):
                if volume_mount.get(key):
                    mirrored[key] = volume_mount[key]
            mount(wait, mirrored)


def with_mirrored_mounts(container: dict[str, Any], mains: list[dict[str, Any]]) -> dict[str, Any]:
    """A user init container or sidecar; `mirrorVolumeMounts: true` (not a Pod field) gives it main's
    volume mounts (Argo's `UserContainer` field), e.g. a docker-in-docker sidecar sharing main's
    workspace."""
    out = {k: v for k, v in container.items() if k != "mirrorVolumeMounts"}
    if container.get("mirrorVolumeMounts") is True:
        for main in mains[:1]:
            for volume_mount in main.get("volumeMounts") or ():
                if isinstance(volume_mount, dict) and volume_mount.get("name") not in EXECUTOR_VOLUMES:
                    mount(out, copy.deepcopy(volume_mount))
    return out


def main_containers(tmpl: dict[str, Any], executor_image: str = "") -> list[dict[str, Any]]:
    """The user containers of a leaf template, `main` first (containerSet: its members)."""
    if isinstance(tmpl.get("containerSet"), dict):
        # `dependencies` is the launcher's business (it reads the template), not a Pod field; the set's
        # `volumeMounts` are every member's
        shared = [m for m in tmpl["containerSet"].get("volumeMounts") or () if isinstance(m, dict)]
        members = []
        for c in tmpl["containerSet"].get("containers") or ():
            if isinstance(c, dict):
                member = {k: v for k, v in c.items() if k != "dependencies"}
                for volume_mount in shared:
                    mount(member, copy.deepcopy(volume_mount))
                members.append(member)
        return members
    if isinstance(tmpl.get("script"), dict):
        script = {k: v for k, v in tmpl["script"].items() if k != "source"}
        script["name"] = "main"
        script["args"] = [*(script.get("args") or []), SCRIPT_PATH]
        return [script]
    if isinstance(tmpl.get("container"), dict):
        main = dict(tmpl["container"])
        main["name"] = "main"
        return [main]
    if isinstance(tmpl.get("resource"), dict):
        action = str(tmpl["resource"].get("action") or "")
        return [{"name": "main", "image": executor_image, "command": [*EXECUTOR_COMMAND, "resource", action]}]
    if isinstance(tmpl.get("data"), dict):
        return [{"name": "main", "image": executor_image, "command": [*EXECUTOR_COMMAND, "data"]}]
    return []


def container_field(tmpl: dict[str, Any], index: int) -> str:
    """The field path of the template's index-th user container (for error messages)."""
    if isinstance(tmpl.get("containerSet"), dict):
        return f"containerSet.containers[{index}]"
    return "script" if isinstance(tmpl.get("script"), dict) else "container"
