"""A step's own copy-on-write view of the filesystem, where the kernel allows it (issue 13 item 12).

Rewriting the paths a step declares (paths.py) cannot catch a path built at run time: Hera's
`map-outputs-to-inputs` writes `open(f'/{name}', 'w')` and the file landed in the host's `/`. On Linux
each step can instead run in a private mount namespace whose `/` is an overlay: the host's root
filesystem as the read-only lower layer, the node's `layer/upper` directory as the upper one. Every
write the step makes lands in its upper layer, where the runner reads the declared outputs; the host's
files are seen but never changed. /proc, /dev and /sys are the host's (bound); volumes are bound at
their mountPath, so what a step writes there is shared as in a pod. Mount points other than `/` (and
what a user cannot read) show as empty directories.

As root the namespace is a plain mount namespace and `/` one overlay of the host's. Another user gets
a user namespace that maps it to root; there the kernel will not use a `/` that has mounts on it as an
overlay's lower layer ("overlayfs: failed to clone lowerpath", measured on Linux 6.18), so `/` is built
(`plan()`): the node's `merged` directory itself is the root, and every host directory with no mount
below it is its own overlay (upper under `upper/<dir>`); a write directly in `/` lands in `merged`.
Where none of this works (another OS, a container that forbids mounts, an upper layer on a filesystem
overlayfs cannot use) `available()` says why and the runner falls back to rewriting paths, saying so.

The launcher (sluice/runner/cowlaunch.py, run once per step) builds the view, enters it and executes
the step's command (its argv from the config, never a shell string).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LAUNCHER = Path(__file__).resolve().with_name("cowlaunch.py")
# Mounted from the host into the view (bound, not layered): the kernel's own filesystems.
HOST_MOUNTS = ("/proc", "/dev", "/sys")
_UNSAFE_OPTION = re.compile(r"[,:\\\n]")
DISABLE_VAR = "SLUICE_RUN_ISOLATION"  # "paths": always rewrite paths instead


class Layer:
    """The directories of one step's view: upper (its writes, shared by the pod's containers), work
    (overlayfs's own, one per container) and the mount point."""

    def __init__(self, directory: Path) -> None:
        self.upper = directory / "upper"
        self.work = directory / "work"
        self.merged = directory / "merged"

        # Without root, one overlay per directory that has no mount below it (plan()); with root, one of /.
        self.plan: list[list[str]] | None = None if os.getuid() == 0 else plan()

    def create(self) -> None:
        for path in (self.upper, self.work, self.merged):
            path.mkdir(parents=True, exist_ok=True)

    def layered(self) -> dict[str, Path]:
        """Where the step's writes under each layered directory land (the rest land under `merged`)."""
        if self.plan is None:
            return {}
        return {op[1]: self.upper / op[1].lstrip("/") for op in self.plan if op[0] == "overlay"}

    def root(self) -> Path:
        """Where a write outside every layered directory lands."""
        return self.upper if self.plan is None else self.merged

    def launcher(self, argv: list[str], cwd: str, binds: dict[str, Path], config_path: Path) -> list[str]:
        """The command that runs `argv` inside this view, from `cwd` (a path in the view), with the
        environment it is started with. The launcher is this file run by an isolated interpreter (-I:
        the step's PYTHONPATH or PYTHONHOME cannot change it; it needs only the standard library), and
        the environment is not written to the config (it may hold credentials)."""
        # Each container gets its own overlayfs work directory: a mount empties its work directory's
        # `work` subdirectory, so containerSet members starting together on one shared work directory
        # raced (one mount found it gone: "mount overlay on .../merged: No such file or directory").
        work = self.work / config_path.stem
        work.mkdir(parents=True, exist_ok=True)
        fields = [str(self.upper), str(work), str(self.merged), cwd]
        if self.plan is None:
            fields.append("root")
        else:
            fields += ["plan", str(len(self.plan))]
            for op in self.plan:
                fields += [op[0], op[1], op[2] if len(op) > 2 else ""]
        fields.append(str(len(binds)))
        for target, source in sorted(binds.items()):
            fields += [str(source), target]
        fields += argv
        config_path.write_bytes(b"\0".join(os.fsencode(field) for field in fields))
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(config_path)]


def _mount_points() -> set[str]:
    points = set()
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            if len(fields) > 4:  # the kernel writes a space, tab, newline or backslash as \ooo
                points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def plan() -> list[list[str]]:
    """How to build `/` for a user namespace, where an overlay's lower layer may not have mounts below it:
    walking from `/` only into directories that hold mount points, every other directory is layered
    ("overlay"), symbolic links are copied ("link"), files are bound read-only ("file"), /proc, /dev and
    /sys are bound ("bind"), and the mount points themselves stay empty directories ("dir")."""
    points = _mount_points() - {"/"}
    ops: list[list[str]] = []

    def walk(directory: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            path = directory.rstrip("/") + "/" + name
            if _UNSAFE_OPTION.search(path):  # cannot be named in overlayfs's options: left empty
                ops.append(["dir", path])
            elif os.path.islink(path):
                ops.append(["link", path, os.readlink(path)])
            elif not os.path.isdir(path):
                if os.path.isfile(path):
                    ops.append(["file", path])
            elif path in HOST_MOUNTS:
                ops.append(["bind", path])
            elif path in points:
                ops.append(["dir", path])
            elif any(p.startswith(path + "/") for p in points):
                ops.append(["dir", path])
                walk(path)
            else:
                ops.append(["overlay", path])

    walk("/")
    return ops


@functools.cache
def available(base: str) -> str:
    """ "" when steps can have their own view here (tried once, with an upper layer under `base`, the
    directory the runs live in); otherwise why not, in a few words."""
    if sys.platform != "linux":
        return f"{sys.platform} has no overlay mount namespaces"
    if os.environ.get(DISABLE_VAR) == "paths":
        return f"{DISABLE_VAR}=paths"
    Path(base).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix=".cow-probe-") as tmp:
        layer = Layer(Path(tmp))
        layer.create()
        probe = "/.sluice-cow-probe"
        argv = layer.launcher(
            [sys.executable, "-I", "-c", f"open({probe!r}, 'w').write('x')"],
            "/",
            {},
            Path(tmp) / "config",
        )
        try:
            done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the probe failed: {exc}"
        if Path(probe).exists():  # must never happen: the write went to the host
            return "the probe's write reached the host"
        if done.returncode != 0 or not (layer.root() / probe.lstrip("/")).is_file():
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            return lines[-1].removeprefix("sluice run: ") if lines else f"the probe exited {done.returncode}"
    return ""
