"""images/: the Dockerfile and the cluster's registry-less build make the same image from one recipe
(images/install-sluice.sh), and that image runs as a non-root user.

Docker itself cannot run here (no engine); tests/e2e/test_install.py runs the cluster-built image.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "images" / "install-sluice.sh"
DOCKERFILE = REPO / "images" / "Dockerfile"


def recipe_config() -> dict[str, object]:
    out = subprocess.run([str(RECIPE), "config"], check=True, capture_output=True, text=True).stdout
    config: dict[str, object] = {"env": {}}
    for line in out.splitlines():
        key, value = line.split(" ", 1)
        if key == "env":
            name, val = value.split("=", 1)
            config["env"][name] = val
        else:
            config[key] = value
    return config


def dockerfile_config() -> dict[str, object]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    stages = re.split(r"(?m)^FROM ", text)
    final = stages[-1]
    config: dict[str, object] = {"env": {}}
    for line in final.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "USER":
            config["user"] = rest.strip()
        elif word == "WORKDIR":
            config["workdir"] = rest.strip()
        elif word == "CMD":
            config["cmd"] = json.dumps(json.loads(rest))
        elif word == "ENV":
            for pair in shlex.split(rest):
                name, val = pair.split("=", 1)
                config["env"][name] = val
    return config


def test_recipe_runs_as_a_numeric_non_root_user():
    user = recipe_config()["user"]
    uid, gid = (int(part) for part in user.split(":"))
    assert uid != 0 and gid != 0


def test_dockerfile_says_what_the_recipe_says():
    recipe = recipe_config()
    recipe["cmd"] = json.dumps(json.loads(recipe["cmd"]))
    assert dockerfile_config() == recipe


def test_dockerfile_uses_the_recipe_for_every_step():
    text = DOCKERFILE.read_text()
    for step in ("deps", "app", "user"):
        assert re.search(rf"install-sluice\.sh {step} ", text), step
    assert re.search(r"(?m)^FROM debian:bookworm", text), (
        "runtime base must be Debian bookworm, as the cluster's"
    )


def test_cluster_build_makes_the_same_image():
    """cluster/build-images.sh (the test cluster's registry-less build) gives the Sluice image the
    recipe's user, workdir, command and environment."""
    script = (REPO / "cluster" / "build-images.sh").read_text().replace("\\\n", " ")
    calls = [line for line in script.splitlines() if "mkimage" in line and '"$SLUICE_IMAGE"' in line]
    assert len(calls) == 1, "the Sluice image's mkimage call in cluster/build-images.sh"
    args = shlex.split(calls[0])
    built: dict[str, object] = {"env": {}}
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "--user":
            built["user"] = value
        elif flag == "--workdir":
            built["workdir"] = value
        elif flag == "--cmd":
            built["cmd"] = json.dumps(json.loads(value))
        elif flag == "--env":
            name, val = value.split("=", 1)
            built["env"][name] = val
    recipe = recipe_config()
    recipe["cmd"] = json.dumps(json.loads(recipe["cmd"]))
    assert built == recipe


def test_recipe_refuses_an_unknown_step():
    result = subprocess.run([str(RECIPE), "bake"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown step" in result.stderr


def test_user_step_adds_the_user_once(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    for _ in range(2):
        subprocess.run([str(RECIPE), "user", str(tmp_path)], check=True)
    passwd = (tmp_path / "etc" / "passwd").read_text().splitlines()
    assert passwd == [
        "root:x:0:0:root:/root:/bin/sh",
        "sluice:x:1000:1000:sluice:/home/sluice:/usr/sbin/nologin",
    ]
    assert (tmp_path / "etc" / "group").read_text() == "sluice:x:1000:\n"
    assert (tmp_path / "home" / "sluice").stat().st_uid == 1000
