"""A directory as an object store: `<root>/<key>` (bucket and endpoint ignored).

The artifact repository of `sluice run` (sluice/runner/artifacts.py) and of unit tests. Keys never leave
the root (`..` is refused).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError, NotFound


class DirectoryDriver:
    def __init__(self, root: Path):
        self.root = root

    def path(self, location: dict[str, Any]) -> Path:
        key = str(location.get("key") or "").strip("/")
        if not key:
            raise DriverError("the location has no key")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise DriverError(f"key {key} leaves the artifact directory")
        return path

    def get(self, location: dict[str, Any], dest: Path) -> None:
        source = self.path(location)
        if not source.exists():
            raise NotFound(f"{location.get('key')} not found in {self.root}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, symlinks=True)
        else:
            shutil.copyfile(source, dest)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        target = self.path(location)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
