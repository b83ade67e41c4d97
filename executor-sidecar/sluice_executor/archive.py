"""Packing output artifacts and unpacking inputs, streamed through files (flat memory for any size).

Rules (workflow/artifact_rules.py): tar+gzip with its top entry named after the path's basename (as
Argo archives), `zip` likewise, `none` leaves the file or directory as it is. Inputs that are gzipped
tarballs are unpacked: a single top entry becomes the artifact's path, several become its contents;
zip inputs are unpacked when the artifact says `archive: {zip: {}}`.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path

from workflow.artifact_rules import Archive

GZIP_MAGIC = b"\x1f\x8b"


def pack(source: Path, workdir: Path, archive: Archive) -> Path:
    """The file to upload for `source` (a new file in `workdir`, or `source` itself with `none`)."""
    if archive.kind == "none":
        return source
    workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=workdir, suffix=".zip" if archive.kind == "zip" else ".tgz")
    os.close(fd)
    target = Path(name)
    if archive.kind == "zip":
        _zip(source, target)
    else:
        with tarfile.open(target, "w:gz", compresslevel=max(0, archive.level)) as tar:
            tar.add(source, arcname=source.name)
    return target


def _zip(source: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        if source.is_file():
            zf.write(source, source.name)
            return
        for root, dirs, files in os.walk(source):
            dirs.sort()
            rel = Path(root).relative_to(source.parent)
            zf.write(root, str(rel) + "/")
            for file in sorted(files):
                zf.write(Path(root) / file, str(rel / file))


def is_gzipped_tar(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            if stream.read(2) != GZIP_MAGIC:
                return False
        with tarfile.open(path, "r:gz") as tar:
            tar.next()
        return True
    except (OSError, tarfile.TarError, gzip.BadGzipFile, EOFError):
        return False


def unpack(downloaded: Path, target: Path, unzip: bool = False) -> None:
    """Put a downloaded input at `target`: untar/unzip it, or move it there as it is."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if downloaded.is_file() and is_gzipped_tar(downloaded):
        _extract(downloaded, target, lambda tmp: _untar(downloaded, tmp))
    elif downloaded.is_file() and unzip and zipfile.is_zipfile(downloaded):
        _extract(downloaded, target, lambda tmp: _unzip(downloaded, tmp))
    else:
        _remove(target)
        os.replace(downloaded, target)


def _untar(source: Path, into: Path) -> None:
    with tarfile.open(source, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")  # no links or paths leaving `into`
        else:  # Python < 3.11.4 (Debian 12's 3.11.2, the image's): the same refusals, checked here
            tar.extractall(into, members=_safe_members(tar, into))


def _safe_members(tar: tarfile.TarFile, into: Path):
    root = into.resolve()
    for member in tar:
        target = (root / member.name).resolve()
        if member.name.startswith("/") or not target.is_relative_to(root):
            raise ValueError(f"archive entry {member.name!r} leaves the artifact's directory")
        if member.issym() or member.islnk():
            link = (
                (target.parent / member.linkname).resolve()
                if member.issym()
                else (root / member.linkname).resolve()
            )
            if member.linkname.startswith("/") or not link.is_relative_to(root):
                raise ValueError(
                    f"archive link {member.name!r} -> {member.linkname!r} leaves the artifact's directory"
                )
        if member.isdev() or member.isfifo():
            continue  # devices and pipes are not artifacts' content
        member.mode &= 0o755  # no set-id bits, as the data filter does
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        yield member


def _unzip(source: Path, into: Path) -> None:
    with zipfile.ZipFile(source) as zf:
        for member in zf.infolist():
            dest = (into / member.filename).resolve()
            if not dest.is_relative_to(into.resolve()):
                raise ValueError(f"zip entry {member.filename!r} leaves the artifact's directory")
        zf.extractall(into)


def _extract(source: Path, target: Path, extract) -> None:
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
    try:
        extract(tmp)
        entries = os.listdir(tmp)
        _remove(target)
        if len(entries) == 1:
            os.replace(tmp / entries[0], target)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        source.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
