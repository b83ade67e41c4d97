"""Unpacking input archives safely (executor-sidecar/sluice_executor/archive.py), also on Pythons without
tarfile's data filter (the image's Debian python3 is 3.11.2)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from sluice_executor import archive


def tgz(path, entries) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                info.mode = 0o4755
                tar.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)


@pytest.fixture(params=["data-filter", "checked-here"])
def python(request, monkeypatch):
    if request.param == "checked-here" and hasattr(tarfile, "data_filter"):
        monkeypatch.delattr(tarfile, "data_filter")
    return request.param


def test_unpacks_one_top_entry_to_the_target(tmp_path, python):
    tgz(tmp_path / "a.tgz", [("out", "dir", b""), ("out/f", "file", b"x"), ("out/l", "link", "f")])
    archive.unpack(tmp_path / "a.tgz", tmp_path / "target")
    assert (tmp_path / "target" / "f").read_bytes() == b"x"
    assert (tmp_path / "target" / "l").read_bytes() == b"x"
    assert not (tmp_path / "target" / "f").stat().st_mode & 0o4000  # no set-id bits


@pytest.mark.parametrize(
    "entries",
    [
        [("../escape", "file", b"x")],
        [("/abs", "file", b"x")],
        [("out", "dir", b""), ("out/l", "link", "/etc/passwd")],
        [("out", "dir", b""), ("out/l", "link", "../../x")],
    ],
    ids=["dotdot", "absolute", "absolute-link", "escaping-link"],
)
def test_refuses_entries_leaving_the_target(tmp_path, python, entries):
    tgz(tmp_path / "bad.tgz", entries)
    try:
        archive.unpack(tmp_path / "bad.tgz", tmp_path / "target")
    except (ValueError, tarfile.TarError):
        pass
    else:  # the data filter may instead strip a leading "/": then the entry must have landed inside
        assert entries[0][0] == "/abs" and (tmp_path / "target").read_bytes() == b"x"
    assert not (tmp_path / "escape").exists()
    assert not Path("/abs").exists()
