"""Certificates: a CA and a serving certificate with the right SANs, files, rotation before expiry."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from webhook import certs

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def sans(bundle):
    cert = x509.load_pem_x509_certificate(bundle.tls_cert)
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), set(ext.get_values_for_type(x509.IPAddress))


def test_issue_makes_a_ca_that_signed_the_serving_certificate():
    bundle = certs.issue(
        ["localhost", "127.0.0.1", "::1", *certs.service_hosts("sluice-webhook", "sys")], now=NOW
    )
    dns, ips = sans(bundle)
    assert dns == {
        "localhost",
        "sluice-webhook",
        "sluice-webhook.sys",
        "sluice-webhook.sys.svc",
        "sluice-webhook.sys.svc.cluster.local",
    }
    assert ips == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    ca = x509.load_pem_x509_certificate(bundle.ca_cert)
    cert = x509.load_pem_x509_certificate(bundle.tls_cert)
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=certs.SERVING_DAYS)


def test_ensure_writes_once_and_keeps_keys_private(tmp_path):
    first, made = certs.ensure(tmp_path, ["localhost"], now=NOW)
    assert made is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    again, made = certs.ensure(tmp_path, ["localhost"], now=NOW)
    assert (again, made) == (first, False)


def test_rotation_happens_only_when_due_and_keeps_the_ca(tmp_path):
    bundle, _ = certs.ensure(tmp_path, ["localhost"], now=NOW)
    assert certs.rotate_if_due(tmp_path, ["localhost"], now=NOW + dt.timedelta(days=200)) is None
    later = NOW + dt.timedelta(days=250)  # less than a third of the year left
    fresh = certs.rotate_if_due(tmp_path, ["localhost"], now=later)
    assert fresh is not None and fresh.tls_cert != bundle.tls_cert
    assert fresh.ca_cert == bundle.ca_cert  # clients keep trusting the same CA
    assert certs.read_bundle(tmp_path) == fresh
    cert = x509.load_pem_x509_certificate(fresh.tls_cert)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(bundle.ca_cert))
    assert cert.not_valid_after_utc > later + dt.timedelta(days=300)


def test_an_expiring_ca_is_replaced_and_the_old_one_stays_trusted_beside_it(tmp_path):
    bundle, _ = certs.ensure(tmp_path, ["localhost"], now=NOW)
    near_end = NOW + dt.timedelta(days=certs.CA_DAYS - 100)
    fresh = certs.rotate_if_due(tmp_path, ["localhost"], now=near_end)
    trusted = x509.load_pem_x509_certificates(fresh.ca_cert)
    assert len(trusted) == 2
    assert trusted[1].public_bytes(serialization.Encoding.PEM) == bundle.ca_cert
    x509.load_pem_x509_certificate(fresh.tls_cert).verify_directly_issued_by(trusted[0])


def test_mounted_certificates_are_never_rewritten(tmp_path):
    bundle = certs.issue(["localhost"], now=NOW)
    mounted = certs.Bundle(ca_cert=bundle.ca_cert, tls_cert=bundle.tls_cert, tls_key=bundle.tls_key)
    certs.write_bundle(tmp_path, mounted)
    assert not (tmp_path / "ca.key").exists()
    assert certs.rotate_if_due(tmp_path, ["localhost"], now=NOW + dt.timedelta(days=364)) is None
    assert certs.read_bundle(tmp_path) == mounted
