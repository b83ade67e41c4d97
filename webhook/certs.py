"""Certificates with `cryptography`: a self-made CA and serving certificate, written as files.

Layout of a certificate directory (the same keys as a `kubernetes.io/tls` Secret plus the CA):
`tls.crt`, `tls.key` (served), `ca.crt` (what clients and the webhook configurations' caBundle
trust) and, only when Sluice made the CA itself, `ca.key`, which lets it issue the next serving
certificate before the current one expires. A directory without `ca.key` holds mounted certificates
(cert-manager, a Secret): they are watched and reloaded, never rewritten.

Keys are ECDSA P-256: small, and the TLS handshake is cheaper than with RSA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY, TLS_CERT, TLS_KEY = "ca.crt", "ca.key", "tls.crt", "tls.key"
CA_DAYS = 3650
SERVING_DAYS = 365
# Rotate when less than this share of the certificate's lifetime remains (a year-long cert: ~4 months).
ROTATE_REMAINING = 1 / 3
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


def service_hosts(service: str, namespace: str) -> list[str]:
    """The names the API server may use to reach a webhook Service."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]


@dataclass(frozen=True, slots=True)
class Bundle:
    """PEM bytes of one certificate set; `ca_key` is empty for a CA Sluice does not own."""

    ca_cert: bytes
    tls_cert: bytes
    tls_key: bytes
    ca_key: bytes = b""

    def as_files(self) -> dict[str, bytes]:
        files = {CA_CERT: self.ca_cert, TLS_CERT: self.tls_cert, TLS_KEY: self.tls_key}
        if self.ca_key:
            files[CA_KEY] = self.ca_key
        return files


def _utc(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def new_ca(common_name: str = "sluice-webhook-ca", *, now: dt.datetime | None = None, days: int = CA_DAYS):
    now = _utc(now)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def new_serving(
    ca_cert: x509.Certificate,
    ca_key,
    hosts: list[str],
    *,
    now: dt.datetime | None = None,
    days: int = SERVING_DAYS,
):
    now = _utc(now)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "sluice-webhook")])
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def issue(
    hosts: list[str],
    *,
    now: dt.datetime | None = None,
    ca: Bundle | None = None,
    serving_days: int = SERVING_DAYS,
    ca_days: int = CA_DAYS,
) -> Bundle:
    """A serving certificate for `hosts`, signed by `ca` when it is ours and still valid long enough,
    otherwise by a new CA."""
    now = _utc(now)
    ca_cert = ca_key = None
    previous = b""
    if ca is not None and ca.ca_key:
        ca_cert = x509.load_pem_x509_certificate(ca.ca_cert)
        ca_key = serialization.load_pem_private_key(ca.ca_key, password=None)
        if needs_rotation(ca_cert, now=now):
            # A new CA; the old one stays trusted beside it until it expires, so clients holding
            # the old caBundle keep working while the new one is distributed.
            previous = ca.ca_cert if ca_cert.not_valid_after_utc > now else b""
            ca_cert = ca_key = None
    if ca_cert is None:
        ca_cert, ca_key = new_ca(now=now, days=ca_days)
        ca_pem = _pem(ca_cert) + previous
    else:
        ca_pem = ca.ca_cert  # keep the exact bytes (it may hold a previous CA too)
    cert, key = new_serving(ca_cert, ca_key, hosts, now=now, days=serving_days)
    return Bundle(ca_cert=ca_pem, tls_cert=_pem(cert), tls_key=_key_pem(key), ca_key=_key_pem(ca_key))


def needs_rotation(cert: x509.Certificate, *, now: dt.datetime | None = None) -> bool:
    now = _utc(now)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return (end - now) < (end - start) * ROTATE_REMAINING


def read_bundle(directory: Path) -> Bundle | None:
    """The certificate set in `directory`, or None when it holds no serving certificate."""
    try:
        files = {n: (directory / n).read_bytes() for n in (TLS_CERT, TLS_KEY)}
    except FileNotFoundError:
        return None
    ca = directory / CA_CERT
    ca_key = directory / CA_KEY
    return Bundle(
        ca_cert=ca.read_bytes() if ca.exists() else b"",
        tls_cert=files[TLS_CERT],
        tls_key=files[TLS_KEY],
        ca_key=ca_key.read_bytes() if ca_key.exists() else b"",
    )


def write_bundle(directory: Path, bundle: Bundle) -> None:
    """Write each file atomically (temporary file, then rename), keys readable by the owner only.
    The key is written before the certificate, so a reader that sees the new certificate finds its key."""
    directory.mkdir(parents=True, exist_ok=True)
    order = [CA_KEY, CA_CERT, TLS_KEY, TLS_CERT]
    files = bundle.as_files()
    for name in order:
        if name not in files:
            continue
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name.endswith(".key") else 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(files[name])
        os.replace(tmp, directory / name)


def serving_certificate(bundle: Bundle) -> x509.Certificate:
    return x509.load_pem_x509_certificate(bundle.tls_cert)


def ensure(directory: Path, hosts: list[str], *, now: dt.datetime | None = None) -> tuple[Bundle, bool]:
    """The certificates in `directory`, made there first when it holds none. (bundle, made_now)."""
    found = read_bundle(directory)
    if found is not None:
        return found, False
    bundle = issue(hosts, now=now)
    write_bundle(directory, bundle)
    return bundle, True


def rotate_if_due(directory: Path, hosts: list[str], *, now: dt.datetime | None = None) -> Bundle | None:
    """Issue the next serving certificate when ours nears expiry; None when nothing was due or the
    certificates are not ours (no ca.key: mounted, rotated by whoever mounts them)."""
    bundle = read_bundle(directory)
    if bundle is None or not bundle.ca_key:
        return None
    if not needs_rotation(serving_certificate(bundle), now=now):
        return None
    fresh = issue(hosts, now=now, ca=bundle)
    write_bundle(directory, fresh)
    return fresh
