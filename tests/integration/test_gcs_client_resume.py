"""The GCS client's recovery paths against a scripted JSON-API server on 127.0.0.1 (fake-gcs-server
never fails on purpose): an upload chunk refused with 503 is sent again from the last acknowledged
byte, a partly persisted chunk continues from the server's Range, a download cut mid-body resumes with
a Range request for the same generation, an expired token is exchanged again once, and an upload
session URL on another origin is refused without connecting to it."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sluice_executor.drivers import gcs_client
from sluice_executor.drivers.gcs_client import Client, GCSError, ServiceAccount

from tests.integration.gcs_server import TokenServer

KIB = 1024


class Script:
    """What the server does, and what it saw."""

    def __init__(self):
        self.session_origin = ""  # where upload sessions live (Location); the server itself by default
        self.stored = bytearray()
        self.puts: list[str] = []  # Content-Range of each PUT
        self.gets: list[tuple[str, str]] = []  # (Range header, generation query) of each download
        self.tokens_seen: list[str] = []
        self.reject_tokens = {"token-1"}  # answered 401 once each: an expired token
        self.object = os.urandom(700 * KIB)


def serve(script: Script) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def authorised(self) -> bool:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            script.tokens_seen.append(token)
            if token in script.reject_tokens:
                script.reject_tokens.discard(token)
                self.reply(401, b'{"error": {"message": "expired"}}')
                return False
            return True

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.authorised():
                return
            origin = script.session_origin or f"http://127.0.0.1:{self.server.server_address[1]}"
            self.reply(200, b"{}", {"Location": f"{origin}/upload/session/1"})

        def do_PUT(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            span = self.headers.get("Content-Range") or ""
            script.puts.append(span)
            if len(script.puts) == 2:  # the second chunk: the service is briefly unavailable
                return self.reply(503)
            start = int(span.split()[1].split("-")[0])
            total = int(span.rsplit("/", 1)[1])
            assert start == len(script.stored), (start, len(script.stored))
            if len(script.puts) == 3:  # its retry: only half of it persisted
                body = body[: len(body) // 2]
            script.stored += body
            if len(script.stored) == total:
                return self.reply(200, b"{}")
            self.reply(308, b"", {"Range": f"bytes=0-{len(script.stored) - 1}"})

        def do_GET(self):
            if not self.authorised():
                return
            query = parse_qs(urlsplit(self.path).query)
            wanted = self.headers.get("Range") or ""
            script.gets.append((wanted, (query.get("generation") or [""])[0]))
            data = script.object
            if not wanted:  # the first answer promises everything and stops halfway
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-goog-generation", "1234")
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            rest = data[start:]
            self.reply(206, rest, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr(gcs_client, "CHUNK", 256 * KIB)
    script = Script()
    server = serve(script)
    tokens = TokenServer().start()
    sleeps: list[float] = []
    account = ServiceAccount.from_json(tokens.key_json())
    client = Client(f"http://127.0.0.1:{server.server_address[1]}", account, sleep=sleeps.append)
    try:
        yield script, client, tokens, sleeps
    finally:
        server.shutdown()
        server.server_close()
        tokens.stop()


def test_an_upload_resumes_from_what_the_server_persisted(setup, tmp_path):
    script, client, tokens, sleeps = setup
    source = tmp_path / "src"
    source.write_bytes(script.object)
    client.upload(source, "bkt", "k")
    assert bytes(script.stored) == script.object
    total = len(script.object)
    assert script.puts == [
        f"bytes 0-{256 * KIB - 1}/{total}",
        f"bytes {256 * KIB}-{512 * KIB - 1}/{total}",  # 503
        f"bytes {256 * KIB}-{512 * KIB - 1}/{total}",  # half persisted
        f"bytes {384 * KIB}-{640 * KIB - 1}/{total}",  # from the server's Range
        f"bytes {640 * KIB}-{total - 1}/{total}",
    ]
    assert sleeps == [1.0]  # one transient failure, one pause
    assert len(tokens.issued) == 2  # token-1 was refused as expired, exchanged again once


def test_a_cut_download_resumes_with_a_range_for_the_same_generation(setup, tmp_path):
    script, client, _, _ = setup
    client.download("bkt", "k", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == script.object
    half = len(script.object) // 2
    assert script.gets == [("", ""), (f"bytes={half}-", "1234")]
    assert not (tmp_path / ".out.part").exists()


def test_an_upload_session_on_another_origin_is_refused_unvisited(setup, tmp_path, monkeypatch):
    script, client, _, _ = setup
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        script.session_origin = f"http://127.0.0.1:{other.getsockname()[1]}"
        source = tmp_path / "src"
        source.write_bytes(b"x")
        with pytest.raises(GCSError, match="refusing to contact"):
            client.upload(source, "bkt", "k")
        other.setblocking(False)
        with pytest.raises(BlockingIOError):
            other.accept()  # nobody came
    assert script.puts == []


def test_a_gcs_error_names_the_status_and_message_not_the_token(setup, tmp_path):
    script, client, _, _ = setup
    script.reject_tokens = {"token-1", "token-2"}  # refused even after a fresh exchange
    with pytest.raises(GCSError) as err:
        client.download("bkt", "k", tmp_path / "out")
    assert err.value.status == 401 and "HTTP 401" in str(err.value) and "expired" in str(err.value)
    assert "token-" not in str(err.value)
    assert json.dumps(script.tokens_seen) == '["token-1", "token-2"]'
