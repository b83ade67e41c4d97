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

`python -I sluice/runner/cowroot.py CONFIG` is the launcher: it builds the view, enters it and executes
the step's command (its argv from the config, never a shell string).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_RDONLY = 1
MS_REMOUNT = 32
# Mounted from the host into the view (bound, not layered): the kernel's own filesystems.
HOST_MOUNTS = ("/proc", "/dev", "/sys")
_UNSAFE_OPTION = re.compile(r"[,:\\\n]")
DISABLE_VAR = "SLUICE_RUN_ISOLATION"  # "paths": always rewrite paths instead


class Layer:
    """The directories of one step's view: upper (its writes), work (overlayfs's own) and the mount point."""

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
        config = {
            "upper": str(self.upper),
            "work": str(self.work),
            "merged": str(self.merged),
            "binds": sorted([[str(source), target] for target, source in binds.items()], key=lambda b: b[1]),
            "cwd": cwd,
            "argv": argv,
            "plan": self.plan,
        }
        config_path.write_text(json.dumps(config))
        return [sys.executable, "-I", str(Path(__file__).resolve()), str(config_path)]


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


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    libc: Any, source: str, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def _enter_namespace(libc: Any) -> bool:
    """A private mount namespace; for a user other than root, in a user namespace (True)."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        return False
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    return True


def enter(config: dict[str, Any]) -> None:
    """Build the view described by `config` and chroot into it (this process only)."""
    libc = _libc()
    userns = _enter_namespace(libc)
    # Nothing mounted from here on propagates back to the host's namespace.
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)
    merged = config["merged"]
    if config.get("plan") is not None:
        if not userns:
            raise OSError(1, "a user namespace's plan needs a user other than root")
        _build(libc, config, config["plan"])
    else:
        options = f"lowerdir=/,upperdir={config['upper']},workdir={config['work']}"
        _mount(libc, "overlay", merged, "overlay", 0, options)
        for path in HOST_MOUNTS:
            if os.path.isdir(path):
                _mount(libc, path, merged + path, None, MS_BIND | MS_REC)
    for source, target in config["binds"]:
        inside = merged + "/" + target.strip("/")
        os.makedirs(inside, exist_ok=True)  # in the upper layer, not on the host
        _mount(libc, source, inside, None, MS_BIND | MS_REC)
    os.chroot(merged)
    os.chdir(config.get("cwd") or "/")


def _build(libc: Any, config: dict[str, Any], ops: list[list[str]]) -> None:
    """`/` for a user namespace: the merged directory itself, with one overlay per layered directory
    (overlayfs keeps its marks in user.* attributes there: `userxattr`)."""
    merged, upper, work = config["merged"], config["upper"], config["work"]
    for op in ops:
        kind, path = op[0], op[1]
        inside = merged + path
        if kind == "link":
            if not os.path.lexists(inside):
                os.symlink(op[2], inside)
        elif kind == "file":
            open(inside, "a").close()
            with contextlib.suppress(OSError):  # a file this user may not bind stays an empty one
                _mount(libc, path, inside, None, MS_BIND)
                _mount(libc, "none", inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        else:
            os.makedirs(inside, exist_ok=True)
            if kind == "bind":
                _mount(libc, path, inside, None, MS_BIND | MS_REC)
            elif kind == "overlay":
                layer_upper, layer_work = upper + path, work + path
                os.makedirs(layer_upper, exist_ok=True)
                os.makedirs(layer_work, exist_ok=True)
                options = f"lowerdir={path},upperdir={layer_upper},workdir={layer_work},userxattr"
                with contextlib.suppress(OSError):  # a directory this user cannot read stays empty
                    _mount(libc, "overlay", inside, "overlay", 0, options)


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    try:
        enter(config)
    except OSError as exc:
        print(f"sluice run: cannot enter the step's filesystem view: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(127)
    argv = config["argv"]
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"sluice run: cannot start {argv[0]}: {exc.strerror}", file=sys.stderr)
        sys.exit(127)


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
            Path(tmp) / "config.json",
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


if __name__ == "__main__":
    main(sys.argv[1])
