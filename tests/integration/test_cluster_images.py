"""cluster/images: the OCI store writer (mkimage.py) and the loopback registry that serves it (registry.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import tarfile
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

IMAGES = Path(__file__).resolve().parents[2] / "cluster" / "images"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"cluster_images_{name}", IMAGES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mkimage = _load("mkimage")
registry = _load("registry")


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("alpine:3.23", "docker.io/library/alpine:3.23"),
        ("argoproj/argosay:v2", "docker.io/argoproj/argosay:v2"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/x:y", "localhost:5000/x:y"),
        ("quay.io/a/b", "quay.io/a/b:latest"),
    ],
)
def test_normalize_names_as_containerd_does(name, full):
    assert mkimage.normalize(name) == full


def _layer(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"hello\n"
        info = tarfile.TarInfo("etc/hello")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "layer.tar"
    path.write_bytes(buf.getvalue())
    return path


def test_store_and_registry_serve_every_name(tmp_path):
    store = tmp_path / "store"
    layer = _layer(tmp_path)
    digest = mkimage.add_image(store, ["busybox:1.36", "alpine:3.23"], [layer], {"Cmd": ["sh"]})
    index = json.loads((store / "index.json").read_text())
    names = {m["annotations"]["io.containerd.image.name"]: m["digest"] for m in index["manifests"]}
    assert names == {"docker.io/library/busybox:1.36": digest, "docker.io/library/alpine:3.23": digest}

    registry.Handler.store = registry.Store(store)
    server = ThreadingHTTPServer(("127.0.0.1", 0), registry.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        assert opener.open(f"{base}/v2/").status == 200
        with opener.open(f"{base}/v2/library/busybox/manifests/1.36?ns=docker.io") as r:
            manifest = json.loads(r.read())
            assert r.headers["Docker-Content-Digest"] == digest
            assert r.headers["Content-Type"] == "application/vnd.oci.image.manifest.v1+json"
        (layer_desc,) = manifest["layers"]
        with opener.open(f"{base}/v2/library/busybox/blobs/{layer_desc['digest']}") as r:
            blob = r.read()
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer_desc["digest"]
        with opener.open(f"{base}/v2/library/alpine/manifests/{digest}") as r:
            assert r.status == 200
        for missing in (
            "library/nginx/manifests/latest",
            "library/busybox/manifests/9.9",
            "x/blobs/sha256:00",
        ):
            with pytest.raises(urllib.error.HTTPError) as err:
                opener.open(f"{base}/v2/{missing}")
            assert err.value.code == 404

        # The store is rewritten on every run: the registry picks up the new index.
        mkimage.add_image(store, ["busybox:1.37"], [layer], {"Cmd": ["sh"]})
        with opener.open(f"{base}/v2/library/busybox/manifests/1.37?ns=docker.io") as r:
            assert r.status == 200
    finally:
        server.shutdown()
