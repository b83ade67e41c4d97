"""`raw` artifacts: inline data written to the artifact's path (inputs only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError


class RawDriver:
    def get(self, location: dict[str, Any], dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(str(location.get("data") or ""))

    def put(self, source: Path, location: dict[str, Any]) -> None:
        raise DriverError("raw artifacts are inputs only")
