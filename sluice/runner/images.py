"""What a container means on this machine: the program to start for an image and a command.

There are no images locally. A container's `command` is looked up on this machine's PATH; for images
built on busybox (busybox, alpine) its applets run through the local busybox when there is one, so that
shell scripts behave as in the image. An image used without a `command` gets its entrypoint from a small
table of the images Argo's examples use (`argoproj/argosay` is emulated in Python). `python` falls back
to this Python when no `python` is installed. Anything else not found fails the node with a message
saying which program is missing.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys

BUSYBOX_IMAGES = ("busybox", "alpine")
# Entrypoint + default args of images run without a `command`.
ENTRYPOINTS: dict[str, list[str]] = {
    "argoproj/argosay": [sys.executable, "-m", "sluice.runner.argosay"],
    "busybox": ["sh"],
    "alpine": ["/bin/sh"],
    "python": ["python3"],
    "docker/whalesay": ["cowsay"],
}


class MissingProgram(Exception):
    pass


def _repo(image: str) -> str:
    image = image.strip()
    name = image.rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "quay.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


@functools.lru_cache(maxsize=1)
def _busybox_applets() -> frozenset[str]:
    busybox = shutil.which("busybox")
    if not busybox:
        return frozenset()
    try:
        out = subprocess.run(
            [busybox, "--list"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(out.split())


def resolve(image: str, command: list[str], args: list[str], path: str | None = None) -> list[str]:
    """The argv to run, or MissingProgram."""
    repo = _repo(image or "")
    if not command:
        entry = ENTRYPOINTS.get(repo)
        if entry is None:
            raise MissingProgram(
                f"image {image!r} has no command and its entrypoint is unknown locally; set `command`"
            )
        command = list(entry)
    program = command[0]
    base = program.rsplit("/", 1)[-1]
    if repo in BUSYBOX_IMAGES and base in _busybox_applets():
        return [shutil.which("busybox") or "busybox", base, *command[1:], *args]
    if repo == "argoproj/argosay" and base == "argosay":
        return [sys.executable, "-m", "sluice.runner.argosay", *command[1:], *args]
    if base in ("python", "python3"):
        return [sys.executable, *command[1:], *args]  # this Python: no shim, no second interpreter start-up
    found = shutil.which(program, path=path) or shutil.which(base, path=path)
    if found is None:
        raise MissingProgram(f"{program!r} (from image {image!r}) is not installed on this machine")
    return [found, *command[1:], *args]
