"""obstore needs CA certificates even for plain-HTTP stores: an image without a system bundle gets
certifi's (executor-sidecar/sluice_executor/drivers/objectstore.py)."""

from __future__ import annotations

import certifi
from sluice_executor.drivers import objectstore


def test_certifi_bundle_when_the_image_has_none(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setattr(objectstore, "SYSTEM_CA_FILES", ("/nonexistent/ca.crt",))
    objectstore.ensure_ca_bundle()
    assert objectstore.os.environ["SSL_CERT_FILE"] == certifi.where()


def test_system_bundle_or_explicit_setting_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", "/custom/bundle.pem")
    objectstore.ensure_ca_bundle()
    assert objectstore.os.environ["SSL_CERT_FILE"] == "/custom/bundle.pem"
    monkeypatch.delenv("SSL_CERT_FILE")
    bundle = tmp_path / "ca.crt"
    bundle.write_text("x")
    monkeypatch.setattr(objectstore, "SYSTEM_CA_FILES", (str(bundle),))
    objectstore.ensure_ca_bundle()
    assert "SSL_CERT_FILE" not in objectstore.os.environ
