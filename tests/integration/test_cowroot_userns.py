"""sluice/runner/cowroot.py for a user other than root: the user namespace's view (one overlay per
directory without mounts below it), run as `nobody` through the launcher itself (the system Python:
the launcher needs only the standard library)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sluice.runner import cowroot

PYTHON = shutil.which("python3", path="/usr/bin:/bin")
SETPRIV = shutil.which("setpriv")
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.getuid() != 0 or not PYTHON or not SETPRIV,
    reason="needs root to become nobody, setpriv, /usr/bin/python3",
)


def test_a_users_writes_land_in_its_layer_and_not_on_the_host():
    base = Path(tempfile.mkdtemp(prefix="sluice-userns-", dir="/tmp"))
    try:
        base.chmod(0o777)
        layer = cowroot.Layer(base / "layer")
        layer.plan = cowroot.plan()  # as for a user other than root
        layer.create()
        for path in (base / "layer", layer.upper, layer.work, layer.merged):
            os.chown(path, NOBODY, NOBODY)
        volume = base / "volume"
        volume.mkdir()
        os.chown(volume, NOBODY, NOBODY)
        name = base.name
        script = f"echo root > /{name}-at-root && echo tmp > /tmp/{name}-in-tmp && echo vol > /mnt/v/f && cat /etc/hostname >/dev/null"
        argv = layer.launcher(["/bin/sh", "-c", script], "/", {"/mnt/v": volume}, base / "config.json")
        argv[0] = PYTHON
        os.chmod(base / "config.json", 0o644)
        done = subprocess.run(
            [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if "cannot enter the step's filesystem view" in done.stderr:
            pytest.skip(f"no user namespace view on this machine: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        # Nothing reached the host's / or /tmp; the writes are in the step's layer, where the runner reads.
        assert not Path(f"/{name}-at-root").exists() and not Path(f"/tmp/{name}-in-tmp").exists()
        mapped = cowroot.Layer(base / "layer")
        mapped.plan = layer.plan
        assert (mapped.root() / f"{name}-at-root").read_text() == "root\n"
        assert (mapped.layered()["/tmp"] / f"{name}-in-tmp").read_text() == "tmp\n"
        assert (volume / "f").read_text() == "vol\n"  # a volume is shared, as in a pod
    finally:
        shutil.rmtree(base, ignore_errors=True)
