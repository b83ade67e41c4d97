"""Directories in a flat key space, the same way for every object store (objectstore.py, gcs.py).

A key that names no object but a prefix is a directory (`archive: none` of a directory): every object
under `key/` is fetched to the same relative path, never outside the destination. A directory is
uploaded as one object per file under `key/`. Keys ending in `/` are folder placeholders and skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sluice_executor.drivers import DriverError, NotFound

Download = Callable[[str, Path], None]  # raises NotFound when the key names no object
Listing = Callable[[str], list[str]]  # every key under a prefix
Upload = Callable[[Path, str], None]


def fetch(key: str, dest: Path, download: Download, listing: Listing, where: str) -> None:
    """`key` as one object at `dest`, else every object under `key/` below the directory `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        download(key, dest)
        return
    except NotFound:
        objects = listing(f"{key}/")
    if not objects:
        raise NotFound(f"{where} not found")
    root = dest.resolve()
    for path in objects:
        if path.endswith("/"):  # a folder placeholder (consoles create them): no file to write
            continue
        target = (dest / path[len(key) + 1 :]).resolve()
        if not target.is_relative_to(root):
            raise DriverError(f"object {path} leaves the artifact's directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        download(path, target)


def store(source: Path, key: str, upload: Upload) -> None:
    """A file as the object `key`; a directory as one object per file under `key/`."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            upload(path, f"{key}/{path.relative_to(source).as_posix()}")
    else:
        upload(source, key)
