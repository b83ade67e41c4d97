"""Per-node isolation of absolute paths, without containers.

A pod's `main` writes its outputs to absolute paths (`/tmp/out.txt`), reads its input artifacts from
absolute paths, and shares volumes with other pods at their `mountPath`. Locally, parallel nodes must not
see each other's files, so every such path is moved:

* declared paths of the node (output parameter and artifact paths, input artifact paths, the script
  file) go under the node's own root directory: `/tmp/out.txt` → `<node>/root/tmp/out.txt`;
* volume mounts go to one directory per volume of the run: `/mnt/vol` → `<run>/volumes/<name>`;

and every string the process sees (command, args, script source, env values, working dir) is rewritten
accordingly. Only these known paths move: a command writing elsewhere (say `/var/tmp/x`) writes on the
host as it would without isolation. The node also gets its own TMPDIR.
"""

from __future__ import annotations

import re
from pathlib import Path


class PathMap:
    def __init__(self, mapping: dict[str, Path]):
        # Longest first, so that /tmp/dir/file wins over /tmp/dir.
        self.mapping = dict(sorted(((k.rstrip("/") or "/", v) for k, v in mapping.items() if k.startswith("/")),
                                   key=lambda kv: -len(kv[0])))
        if self.mapping:
            alternatives = "|".join(re.escape(k) for k in self.mapping)
            self._pattern = re.compile(rf"(?<![\w.\-/])({alternatives})(?=$|[/\s'\";:,)|&<>=}}]|$)")
        else:
            self._pattern = None

    def local(self, path: str) -> Path:
        """Where an absolute container path lives on this machine (unmapped paths stay as they are)."""
        for prefix, target in self.mapping.items():
            if path == prefix:
                return target
            if path.startswith(prefix + "/"):
                return target / path[len(prefix) + 1 :]
        return Path(path)

    def rewrite(self, text: str) -> str:
        if self._pattern is None or "/" not in text:
            return text
        return self._pattern.sub(lambda m: str(self.mapping[m.group(1)]), text)


def declared_paths(template: dict) -> list[str]:
    """The absolute paths a leaf template declares: outputs, input artifacts."""
    paths: list[str] = []
    outputs = template.get("outputs") or {}
    for param in outputs.get("parameters") or ():
        path = (param.get("valueFrom") or {}).get("path")
        if isinstance(path, str) and path.startswith("/"):
            paths.append(path)
    for art in outputs.get("artifacts") or ():
        if isinstance(art.get("path"), str) and art["path"].startswith("/"):
            paths.append(art["path"])
    for art in (template.get("inputs") or {}).get("artifacts") or ():
        if isinstance(art.get("path"), str) and art["path"].startswith("/"):
            paths.append(art["path"])
    return paths


def isolation_map(template: dict, mounts: dict[str, Path], node_root: Path, extra: dict[str, Path]) -> PathMap:
    """Declared paths under `node_root`, mounts to their volume directories, plus `extra` fixed entries."""
    mapping: dict[str, Path] = {}
    for mount_path, target in mounts.items():
        mapping[mount_path] = target
    probe = PathMap(mapping)
    for path in declared_paths(template):
        if probe.local(path) != Path(path):
            continue  # already on a volume
        mapping[path] = node_root / path.lstrip("/")
    mapping.update(extra)
    return PathMap(mapping)
