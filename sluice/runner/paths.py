"""Per-node isolation of absolute paths, without containers.

A pod's `main` writes its outputs to absolute paths (`/tmp/out.txt`), reads its input artifacts from
absolute paths, and shares volumes with other pods at their `mountPath`. Locally, parallel nodes must not
see each other's files, so every such path is moved:

* the directories of the node's declared paths (output parameter and artifact paths, input artifact
  paths) go under the node's own root directory: `/tmp/out.txt` → `<node>/root/tmp/out.txt`, and
  all of `/tmp` with it; a declared path directly in a system directory (`/etc/x`) moves alone;
* the script file and `/var/run/argo` are the node's own;
* volume mounts go to one directory per volume of the run: `/mnt/vol` → `<run>/volumes/<name>`;

and every string the process sees (command, args, script source, env values, working dir) is rewritten
accordingly. Only these known paths move: a command writing elsewhere (say `/var/tmp/x`) writes on the
host as it would without isolation. The node also gets its own TMPDIR.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

# Directories that belong to the system: a declared file there is moved alone, never its whole directory.
SYSTEM_DIRS = frozenset(
    {
        "/",
        "/etc",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/proc",
        "/dev",
        "/sys",
        "/var",
        "/root",
        "/home",
        "/opt",
        "/srv",
        "/run",
        "/boot",
    }
)


class PathMap:
    def __init__(
        self, mapping: dict[str, Path], directories: frozenset[str] = frozenset(), *, root: Path | None = None
    ):
        """`root`: where every other absolute path lives (a step's own layer, cowroot.py); with it, the
        step sees its paths unchanged, so no string is rewritten."""
        self.directories = directories
        self.root = root
        # Longest first, so that /tmp/dir/file wins over /tmp/dir.
        self.mapping = dict(
            sorted(
                ((k.rstrip("/") or "/", v) for k, v in mapping.items() if k.startswith("/")),
                key=lambda kv: -len(kv[0]),
            )
        )
        if self.mapping:
            alternatives = "|".join(re.escape(k) for k in self.mapping)
            self._pattern = re.compile(rf"(?<![\w.\-/])({alternatives})(?=$|[/\s'\";:,)|&<>=}}]|$)")
        else:
            self._pattern = None

    def local(self, path: str) -> Path:
        """Where an absolute container path lives on this machine (unmapped paths stay as they are).
        The path is normalised first, so `..` cannot climb out of the directory it is mapped to."""
        path = normal(path)
        for prefix, target in self.mapping.items():
            if path == prefix:
                return target
            if path.startswith(prefix + "/"):
                return target / path[len(prefix) + 1 :]
        if self.root is not None and path.startswith("/"):
            return self.root / path.lstrip("/")
        return Path(path)

    def rewrite(self, text: str) -> str:
        if self.root is not None or self._pattern is None or "/" not in text:
            return text
        return self._pattern.sub(lambda m: str(self.mapping[m.group(1)]), text)


def normal(path: str) -> str:
    """An absolute container path without `.`, `..` or doubled slashes (`..` stops at `/`, as in a
    container's filesystem); other strings as they are."""
    if not path.startswith("/"):
        return path
    return "/" + posixpath.normpath(path).lstrip("/")


def declared_paths(template: dict) -> list[str]:
    """The absolute paths a leaf template declares (outputs, input artifacts), normalised."""
    paths: list[str] = []
    outputs = template.get("outputs") or {}
    for param in outputs.get("parameters") or ():
        path = (param.get("valueFrom") or {}).get("path")
        if isinstance(path, str) and path.startswith("/"):
            paths.append(normal(path))
    for art in outputs.get("artifacts") or ():
        if isinstance(art.get("path"), str) and art["path"].startswith("/"):
            paths.append(normal(art["path"]))
    for art in (template.get("inputs") or {}).get("artifacts") or ():
        if isinstance(art.get("path"), str) and art["path"].startswith("/"):
            paths.append(normal(art["path"]))
    return paths


def isolation_map(
    template: dict, mounts: dict[str, Path], node_root: Path, extra: dict[str, Path]
) -> PathMap:
    """Declared paths under `node_root`, mounts to their volume directories, plus `extra` fixed entries."""
    mapping: dict[str, Path] = {}
    for mount_path, target in mounts.items():
        mapping[mount_path] = target
    probe = PathMap(mapping)
    directories: set[str] = set()
    for path in declared_paths(template):
        if probe.local(path) != Path(path):
            continue  # already on a volume
        parent = path.rstrip("/").rsplit("/", 1)[0] or "/"
        if parent in SYSTEM_DIRS:
            mapping[path] = node_root / path.lstrip("/")
        else:
            # The whole directory moves: `mkdir /mnt/out` then writing /mnt/out/part.json stays private.
            mapping[parent] = node_root / parent.lstrip("/")
            directories.add(parent)
    mapping.update(extra)
    return PathMap(mapping, frozenset(directories))
