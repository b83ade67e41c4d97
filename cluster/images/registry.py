#!/usr/bin/env python3
"""A read-only OCI distribution registry on loopback that serves the project's image store.

    registry.py STORE --port 5111 [--host 127.0.0.1]

containerd's hosts.toml (written by up.sh) sends pulls for docker.io, quay.io, registry.k8s.io and
sluice.local here, so a pod whose image is `busybox` (pull policy Always) resolves to the image we
built instead of reaching any other machine. It answers only what is in STORE/index.json; every other
name is a 404 (the pull fails: nothing is ever fetched from elsewhere). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROUTE = re.compile(r"^/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Store:
    def __init__(self, root: Path):
        self.root = root
        self.tags: dict[str, dict] = {}
        self.digests: dict[str, dict] = {}
        self.mtime = 0
        self.reload()

    def reload(self) -> None:
        """Read index.json again when it changed (build-images.sh rewrites the store on every run)."""
        path = self.root / "index.json"
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self.mtime:
            return
        index = json.loads(path.read_text())
        self.mtime = mtime
        self.tags, self.digests = {}, {}
        for desc in index.get("manifests", []):
            name = desc.get("annotations", {}).get("io.containerd.image.name")
            if name:
                self.tags[name] = desc
                self.digests[desc["digest"]] = desc

    def blob(self, digest: str) -> Path | None:
        if not DIGEST.match(digest):
            return None
        p = self.root / "blobs" / "sha256" / digest.split(":", 1)[1]
        return p if p.is_file() else None


class Handler(BaseHTTPRequestHandler):
    server_version = "sluice-registry"
    protocol_version = "HTTP/1.1"
    store: Store

    def log_message(self, fmt, *args):  # one line per request on stderr (the cluster's log file)
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    def _not_found(self, head: bool) -> None:
        body = json.dumps(
            {"errors": [{"code": "NAME_UNKNOWN", "message": "not in the sluice image store"}]}
        ).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        url = urlsplit(self.path)
        if url.path in ("/v2", "/v2/"):
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        m = ROUTE.match(url.path)
        if not m:
            return self._not_found(head)
        self.store.reload()
        ns = parse_qs(url.query).get("ns", ["docker.io"])[0]
        name, kind, ref = m["name"], m["kind"], m["ref"]
        if kind == "manifests":
            desc = (
                self.store.digests.get(ref)
                if DIGEST.match(ref)
                else self.store.tags.get(f"{ns}/{name}:{ref}")
            )
            if desc is None:
                return self._not_found(head)
            path, ctype, digest = self.store.blob(desc["digest"]), desc["mediaType"], desc["digest"]
        else:
            path, ctype, digest = self.store.blob(ref), "application/octet-stream", ref
        if path is None:
            return self._not_found(head)
        size = path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if not head:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    self.wfile.write(chunk)

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5111)
    a = ap.parse_args(argv)
    Handler.store = Store(a.store)
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    print(
        f"sluice registry on {a.host}:{a.port}, {len(Handler.store.tags)} names", file=sys.stderr, flush=True
    )
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
