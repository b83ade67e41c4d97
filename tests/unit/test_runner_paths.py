"""Path isolation of the local runner: which paths move, and how strings are rewritten."""

from __future__ import annotations

from pathlib import Path

from sluice.runner.paths import PathMap, isolation_map

ROOT = Path("/runs/n1/root")


def test_declared_paths_move_with_their_directory():
    tmpl = {
        "outputs": {
            "parameters": [{"name": "p", "valueFrom": {"path": "/tmp/out.txt"}}],
            "artifacts": [{"name": "a", "path": "/mnt/out/part.json"}],
        },
        "inputs": {"artifacts": [{"name": "i", "path": "/etc/extra.conf"}]},
    }
    pm = isolation_map(tmpl, {}, ROOT, {})
    assert pm.local("/tmp/out.txt") == ROOT / "tmp/out.txt"
    assert pm.local("/tmp/other") == ROOT / "tmp/other"  # the whole of /tmp is the node's
    assert pm.local("/mnt/out") == ROOT / "mnt/out"
    assert pm.local("/etc/extra.conf") == ROOT / "etc/extra.conf"
    assert pm.local("/etc/hosts") == Path("/etc/hosts")  # a system directory never moves as a whole
    assert pm.local("/var/tmp/x") == Path("/var/tmp/x")


def test_rewrite_only_whole_paths():
    pm = PathMap({"/tmp": ROOT / "tmp", "/mnt/vol": Path("/runs/vol")})
    assert pm.rewrite("echo hi > /tmp/out.txt") == f"echo hi > {ROOT}/tmp/out.txt"
    assert pm.rewrite("cat '/mnt/vol/a' \"/tmp\"") == f"cat '/runs/vol/a' \"{ROOT}/tmp\""
    assert pm.rewrite("ls /x/tmp/y /tmpfile /mnt/volume") == "ls /x/tmp/y /tmpfile /mnt/volume"
    assert pm.rewrite("open('/tmp/a.json')") == f"open('{ROOT}/tmp/a.json')"


def test_mounts_win_over_declared_paths():
    tmpl = {"outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/mnt/vol/out.txt"}}]}}
    pm = isolation_map(tmpl, {"/mnt/vol": Path("/runs/volumes/v")}, ROOT, {})
    assert pm.local("/mnt/vol/out.txt") == Path("/runs/volumes/v/out.txt")
