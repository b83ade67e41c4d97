"""The launcher of a step's copy-on-write view (sluice/runner/cowroot.py): builds the view, enters it and
executes the step's argv (never a shell string).

    python -I -S sluice/runner/cowlaunch.py CONFIG

It imports only os, sys and ctypes, and reads a NUL-separated config (cowroot.Layer.launcher writes
it), because it runs once per step: `python -I -S` with these imports starts in ~50 ms on the project's
machine, against ~200 ms with json, pathlib and subprocess (benchmarks/RESULTS.md). The environment it
is started with is the step's; it is never written to the config (it may hold credentials).
"""

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
HOST_MOUNTS = ("/proc", "/dev", "/sys")  # bound from the host: the kernel's own filesystems

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _check(
        _libc.mount(
            os.fsencode(source),
            os.fsencode(target),
            fstype and fstype.encode(),
            flags,
            data and os.fsencode(data),
        ),
        f"mount {source} on {target}",
    )


def _enter_namespace():
    """A private mount namespace; for a user other than root, in a user namespace (True)."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        return False
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    return True


def _build(merged, upper, work, ops):
    """`/` for a user namespace: the merged directory itself, with one overlay per layered directory
    (overlayfs keeps its marks in user.* attributes there: `userxattr`)."""
    for kind, path, arg in ops:
        inside = merged + path
        if kind == "link":
            if not os.path.lexists(inside):
                os.symlink(arg, inside)
        elif kind == "file":
            open(inside, "a").close()
            try:
                _mount(path, inside, None, MS_BIND)
                _mount("none", inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:  # a file this user may not bind stays an empty one
                pass
        else:
            os.makedirs(inside, exist_ok=True)
            if kind == "bind":
                _mount(path, inside, None, MS_BIND | MS_REC)
            elif kind == "overlay":
                layer_upper, layer_work = upper + path, work + path
                os.makedirs(layer_upper, exist_ok=True)
                os.makedirs(layer_work, exist_ok=True)
                options = f"lowerdir={path},upperdir={layer_upper},workdir={layer_work},userxattr"
                try:  # noqa: SIM105 - contextlib is one more import at every step's start
                    _mount("overlay", inside, "overlay", 0, options)
                except OSError:  # a directory this user cannot read stays empty
                    pass


def parse(fields):
    """The config's fields: upper, work, merged, cwd, then "plan" and a count of (kind, path, arg)
    operations or "root", then a count of (source, target) volumes, then the argv."""
    upper, work, merged, cwd, mode = fields[:5]
    at = 5
    ops = None
    if mode == "plan":
        count = int(fields[at])
        ops = [tuple(fields[at + 1 + 3 * i : at + 4 + 3 * i]) for i in range(count)]
        at += 1 + 3 * count
    count = int(fields[at])
    binds = [tuple(fields[at + 1 + 2 * i : at + 3 + 2 * i]) for i in range(count)]
    argv = fields[at + 1 + 2 * count :]
    return upper, work, merged, cwd, ops, binds, argv


def enter(upper, work, merged, cwd, ops, binds):
    """Build the view and chroot into it (this process only)."""
    userns = _enter_namespace()
    # Nothing mounted from here on propagates back to the host's namespace.
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    if ops is not None:
        if not userns:
            raise OSError(1, "a user namespace's plan needs a user other than root")
        _build(merged, upper, work, ops)
    else:
        _mount("overlay", merged, "overlay", 0, f"lowerdir=/,upperdir={upper},workdir={work}")
        for path in HOST_MOUNTS:
            if os.path.isdir(path):
                _mount(path, merged + path, None, MS_BIND | MS_REC)
    for source, target in binds:
        inside = merged + "/" + target.strip("/")
        os.makedirs(inside, exist_ok=True)  # in the step's layer, not on the host
        _mount(source, inside, None, MS_BIND | MS_REC)
    os.chroot(merged)
    os.chdir(cwd or "/")


def main(config_path):
    with open(config_path, "rb") as f:
        fields = [os.fsdecode(field) for field in f.read().split(b"\0")]
    upper, work, merged, cwd, ops, binds, argv = parse(fields)
    try:
        enter(upper, work, merged, cwd, ops, binds)
    except OSError as exc:
        print(f"sluice run: cannot enter the step's filesystem view: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(127)
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"sluice run: cannot start {argv[0]}: {exc.strerror}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1])
