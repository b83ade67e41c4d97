"""Helpers of the `sluice ui` tests: a real `sluice ui --local` process on a free port and real `sluice run`
processes, both under a test-owned SLUICE_HOME; plain HTTP to 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
START_TIMEOUT = 60.0


def env(home: Path) -> dict[str, str]:
    return dict(os.environ, SLUICE_HOME=str(home), PYTHONUNBUFFERED="1")


@contextmanager
def ui_server(home: Path, *argv: str) -> Iterator[str]:
    """`sluice ui --port 0 ARGV...` (default `--local`); yields its base URL (http://127.0.0.1:PORT)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sluice", "ui", "--port", "0", *(argv or ("--local",))],
        env=env(home),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[str] = []
    seen: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if m and not found:
                found.append(f"http://127.0.0.1:{m[1]}")

    threading.Thread(target=read, daemon=True).start()
    try:
        wait_for(lambda: found or proc.poll() is not None, START_TIMEOUT, "the UI to listen")
        assert found, f"sluice ui did not start: {''.join(seen)}"
        yield found[0]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_run(home: Path, file: Path, name: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sluice", "run", str(file), "--name", name, *extra],
        env=env(home),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(home: Path, file: Path, name: str, timeout: float = 120) -> int:
    proc = start_run(home, file, name)
    return proc.wait(timeout=timeout)


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


def http(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, decoded JSON or text) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw, kind = resp.status, resp.read(), resp.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
    text = raw.decode()
    return status, json.loads(text) if kind == "application/json" else text


def events(url: str, timeout: float = 120) -> Iterator[tuple[str, Any]]:
    """The server-sent events of `url`, (event, data) until the server closes the stream."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.headers.get_content_type() == "text/event-stream"
        event, data = "message", []
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                continue
            if not line:
                if data:
                    yield event, json.loads("\n".join(data))
                event, data = "message", []
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])


# Debian's Chromium as Playwright should launch it here (the browser tests, benchmarks/bench_ui.py,
# tools/ui_screenshots.py): root needs --no-sandbox; the closed network needs no calls home.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    return os.environ.get("SLUICE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Any, path: str) -> Any:
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
