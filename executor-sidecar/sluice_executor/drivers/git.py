"""Git artifacts (inputs only): a clone of `repo` at `revision`, optionally shallow (`depth`), with extra
refspecs fetched (`fetch`), submodules unless `disableSubmodules`, credentials from Secrets.

The `git` program is run with an argument list (never through a shell) and `--` before the
repository, so no value from the workflow can become an option or a command. Credentials travel in the
environment (GIT_CONFIG_* for an HTTP Authorization header, GIT_SSH_COMMAND with a key file of mode
0600), never on a command line that `ps` shows.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError, NotFound, Secrets

TIMEOUT = 600  # seconds for one git command
SHA = re.compile(r"^[0-9a-f]{7,40}$")


class GitDriver:
    def __init__(self, secrets: Secrets):
        self.secrets = secrets

    def _env(self, location: dict[str, Any], scratch: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["GIT_TERMINAL_PROMPT"] = "0"
        config: list[tuple[str, str]] = []
        if isinstance(location.get("usernameSecret"), dict):
            user = self.secrets.get(location["usernameSecret"])
            password = (
                self.secrets.get(location.get("passwordSecret")) if location.get("passwordSecret") else ""
            )
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            config.append(("http.extraHeader", f"Authorization: Basic {token}"))
        if location.get("insecureIgnoreHostKey") is True or location.get("insecureSkipTLS") is True:
            config.append(("http.sslVerify", "false"))
        if isinstance(location.get("sshPrivateKeySecret"), dict):
            key = scratch / "ssh-key"
            key.write_text(self.secrets.get(location["sshPrivateKeySecret"]) + "\n")
            key.chmod(0o600)
            strict = "no" if location.get("insecureIgnoreHostKey") is True else "yes"
            env["GIT_SSH_COMMAND"] = f"ssh -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking={strict}"
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key_name, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"] = key_name
            env[f"GIT_CONFIG_VALUE_{i}"] = value
        return env

    def _git(self, args: list[str], env: dict[str, str], what: str) -> None:
        try:
            done = subprocess.run(["git", *args], env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except FileNotFoundError:
            raise DriverError("git artifacts need the `git` program in the executor image") from None
        except subprocess.TimeoutExpired:
            raise DriverError(f"{what}: git did not finish within {TIMEOUT} s") from None
        if done.returncode != 0:
            lines = [
                line for line in done.stderr.strip().splitlines() if line and "Authorization" not in line
            ]
            detail = lines[-1] if lines else f"git exited {done.returncode}"
            if (
                "not found" in detail.lower()
                or "does not exist" in detail.lower()
                or "did not match" in detail
            ):
                raise NotFound(f"{what}: {detail}")
            raise DriverError(f"{what}: {detail}")

    def get(self, location: dict[str, Any], dest: Path) -> None:
        repo = str(location.get("repo") or "")
        revision = str(location.get("revision") or "")
        if not repo:
            raise DriverError("the git location has no repo")
        for value, field in ((repo, "repo"), (revision, "revision")):
            if value.startswith("-"):
                raise DriverError(f"git {field} must not start with '-': {value!r}")
        fetch = [str(f) for f in location.get("fetch") or ()]
        if any(f.startswith("-") for f in fetch):
            raise DriverError("git fetch refspecs must not start with '-'")
        depth = location.get("depth")
        scratch = Path(tempfile.mkdtemp(prefix=".git-", dir=dest.parent if dest.parent.exists() else None))
        try:
            env = self._env(location, scratch)
            clone = ["clone", "--quiet"]
            if isinstance(depth, int) and not isinstance(depth, bool) and depth > 0:
                clone += ["--depth", str(depth)]
                if revision and not SHA.match(revision):
                    clone += ["--branch", revision]
            if location.get("singleBranch") is True and location.get("branch"):
                clone += ["--single-branch", "--branch", str(location["branch"])]
            if location.get("disableSubmodules") is not True:
                clone.append("--recurse-submodules")
            if dest.exists():
                shutil.rmtree(dest)
            self._git([*clone, "--", repo, str(dest)], env, f"clone {repo}")
            for refspec in fetch:
                self._git(
                    ["-C", str(dest), "fetch", "--quiet", "origin", "--", refspec], env, f"fetch {refspec}"
                )
            if revision:
                self._git(
                    ["-C", str(dest), "checkout", "--quiet", revision, "--"], env, f"checkout {revision}"
                )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        raise DriverError("git artifacts are inputs only")
