"""The HTTP and Git drivers against real servers on this machine (an HTTP server on 127.0.0.1, a local
Git repository), through init as a pod would use them, and the clear refusal of kinds not supported."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sluice_executor.drivers import DriverError, MountedSecrets, NotFound, Unsupported, driver_for
from sluice_executor.init import run_init
from sluice_executor.wait import Waiter

from tests.integration.executor_support import RecordingAPI, pod_env, run_main
from tests.integration.launcher_build import build

USER, PASSWORD = "reader", "s3cret-pw"


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("launcher"))


class Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def log_message(self, *args):  # keep the test output clean
        pass

    def _authorised(self) -> bool:
        if not self.path.startswith("/private/"):
            return True
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            return True
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self):
        if not self._authorised():
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if not self._authorised():
            return
        length = int(self.headers["Content-Length"])
        self.files[self.path] = self.rfile.read(length)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def http_server():
    Handler.files = {"/public/hello.txt": b"hello over http\n", "/private/data.bin": b"\x00secret\x01"}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def secrets(tmp_path) -> MountedSecrets:
    root = tmp_path / "secrets"
    (root / "http-creds").mkdir(parents=True)
    (root / "http-creds" / "user").write_text(USER)
    (root / "http-creds" / "password").write_text(PASSWORD)
    return MountedSecrets(root)


BASIC = {
    "basicAuth": {
        "usernameSecret": {"name": "http-creds", "key": "user"},
        "passwordSecret": {"name": "http-creds", "key": "password"},
    }
}


def test_http_get_put_and_basic_auth(http_server, secrets, tmp_path):
    http = driver_for("http", secrets)
    http.get({"url": f"{http_server}/public/hello.txt"}, tmp_path / "a")
    assert (tmp_path / "a").read_bytes() == b"hello over http\n"
    http.get({"url": f"{http_server}/private/data.bin", "auth": BASIC}, tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"\x00secret\x01"
    with pytest.raises(DriverError, match="HTTP 401") as err:
        http.get({"url": f"{http_server}/private/data.bin"}, tmp_path / "c")
    assert PASSWORD not in str(err.value)
    with pytest.raises(NotFound, match="404"):
        http.get({"url": f"{http_server}/public/none"}, tmp_path / "d")
    (tmp_path / "up.txt").write_bytes(b"uploaded" * 1000)
    http.put(
        tmp_path / "up.txt",
        {
            "url": f"{http_server}/private/up.txt",
            "auth": BASIC,
            "headers": [{"name": "X-Note", "value": "1"}],
        },
    )
    assert Handler.files["/private/up.txt"] == b"uploaded" * 1000


def test_http_unreachable_names_the_url_without_credentials(secrets, tmp_path):
    with pytest.raises(DriverError) as err:
        driver_for("http", secrets).get({"url": "http://user:pw@127.0.0.1:9/x"}, tmp_path / "x")
    assert "GET http://127.0.0.1:9/x: cannot reach the server" in str(err.value)
    assert "pw" not in str(err.value)


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@localhost",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@localhost",
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd or "/tmp"),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("git-work")
    git("init", "-q", "-b", "main", cwd=work)
    (work / "README").write_text("v1\n")
    git("add", "README", cwd=work)
    git("commit", "-q", "-m", "one", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    git("tag", "v1", cwd=work)
    (work / "README").write_text("v2\n")
    git("commit", "-q", "-am", "two", cwd=work)
    bare = tmp_path_factory.mktemp("git") / "repo.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return bare, first


@pytest.mark.parametrize(
    ("extra", "content"),
    [
        ({}, "v2\n"),
        ({"revision": "v1"}, "v1\n"),
        ({"revision": "first"}, "v1\n"),
        ({"depth": 1}, "v2\n"),
        ({"depth": 1, "revision": "v1"}, "v1\n"),
    ],
    ids=["head", "tag", "sha", "shallow", "shallow-tag"],
)
def test_git_clone_at_revision(git_repo, secrets, tmp_path, extra, content):
    bare, first = git_repo
    location = {"repo": f"file://{bare}", **extra}
    if location.get("revision") == "first":
        location["revision"] = first
    driver_for("git", secrets).get(location, tmp_path / "checkout")
    assert (tmp_path / "checkout" / "README").read_text() == content
    if extra.get("depth"):
        assert git("rev-list", "--count", "HEAD", cwd=tmp_path / "checkout") == "1"


def test_git_refuses_option_like_values_and_reports_missing_revisions(git_repo, secrets, tmp_path):
    bare, _ = git_repo
    with pytest.raises(DriverError, match="must not start with '-'"):
        driver_for("git", secrets).get({"repo": "--upload-pack=touch /tmp/x"}, tmp_path / "a")
    with pytest.raises(DriverError, match="checkout no-such-ref"):
        driver_for("git", secrets).get({"repo": f"file://{bare}", "revision": "no-such-ref"}, tmp_path / "b")


def test_init_fetches_http_git_and_raw_inputs(launcher_bin, http_server, git_repo, tmp_path):
    bare, _ = git_repo
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "inputs": {
            "artifacts": [
                {"name": "web", "path": "/in/hello.txt", "http": {"url": f"{http_server}/public/hello.txt"}},
                {"name": "src", "path": "/src", "git": {"repo": f"file://{bare}", "revision": "v1"}},
                {"name": "note", "path": "/in/note", "raw": {"data": "inline"}},
            ]
        },
    }
    env = pod_env(tmp_path, tmpl)
    secrets = MountedSecrets(env.layout.secrets)
    assert run_init(env, lambda kind: driver_for(kind, secrets), launcher_bin) == 0
    assert (env.layout.inputs / "web").read_text() == "hello over http\n"
    assert (env.layout.inputs / "src" / "README").read_text() == "v1\n"
    assert (env.layout.inputs / "note").read_text() == "inline"


@pytest.mark.parametrize("kind", ["oss", "hdfs", "plugin"])
def test_unsupported_kinds_are_refused_clearly(launcher_bin, tmp_path, kind):
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "inputs": {
            "artifacts": [
                {
                    "name": "x",
                    "path": "/x",
                    kind: {
                        "key": "k",
                        "bucket": "b",
                        "container": "c",
                        "url": "u",
                        "addresses": ["a"],
                        "name": "n",
                    },
                }
            ]
        },
    }
    env = pod_env(tmp_path, tmpl)
    secrets = MountedSecrets(env.layout.secrets)
    assert run_init(env, lambda k: driver_for(k, secrets), launcher_bin) == 1
    message = env.layout.termination_log.read_text()
    assert message == (
        f"input artifact x: {kind} artifacts are not supported by Sluice's executor "
        "(supported: s3, gcs, azure, http, artifactory, git, raw); see README.md"
    )
    with pytest.raises(Unsupported):
        driver_for(kind, secrets)


def test_artifactory_repository_round_trip(launcher_bin, http_server, tmp_path):
    """An Artifactory repository (repoURL + key, basic auth from Secrets) on the HTTP server: the default
    artifact goes to <repoURL>/<keyFormat>/<name>.tgz and a later pod reads it back by the reported url."""
    repo = {
        "artifactory": {
            "url": f"{http_server}/private/repo/wf-1/wf-1-p-1",
            "usernameSecret": {"name": "http-creds", "key": "user"},
            "passwordSecret": {"name": "http-creds", "key": "password"},
        }
    }
    work = tmp_path / "work"
    tmpl = {
        "name": "p",
        "container": {"image": "x", "command": ["true"]},
        "archiveLocation": repo,
        "outputs": {"artifacts": [{"name": "out", "path": f"{work}/f"}]},
    }
    env = pod_env(tmp_path / "p", tmpl)
    (env.layout.secrets / "http-creds").mkdir(parents=True)
    (env.layout.secrets / "http-creds" / "user").write_text(USER)
    (env.layout.secrets / "http-creds" / "password").write_text(PASSWORD)
    secrets = MountedSecrets(env.layout.secrets)
    assert run_init(env, lambda kind: driver_for(kind, secrets), launcher_bin) == 0
    assert (
        run_main(
            env.layout.launcher, env, "sh", "-c", f"mkdir -p {work} && echo stored > {work}/f"
        ).returncode
        == 0
    )
    api = RecordingAPI()
    assert asyncio.run(Waiter(env, api, lambda kind: driver_for(kind, secrets)).run()) == 0
    [art] = api.result("wf-1-123")["outputs"]["artifacts"]
    assert art["artifactory"]["url"] == f"{http_server}/private/repo/wf-1/wf-1-p-1/out.tgz"
    assert "/private/repo/wf-1/wf-1-p-1/out.tgz" in Handler.files
    consumer = {
        "name": "c",
        "container": {"image": "x", "command": ["true"]},
        "inputs": {"artifacts": [{**art, "path": "/in/f"}]},
    }
    env2 = pod_env(tmp_path / "c", consumer, node_id="wf-1-456")
    assert run_init(env2, lambda kind: driver_for(kind, secrets), launcher_bin) == 0, (
        env2.layout.termination_log.read_text()
    )
    assert (env2.layout.inputs / "out").read_text() == "stored\n"
