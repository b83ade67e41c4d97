"""The server's TLS context, reloaded in place when the certificate files change.

`ssl.SSLContext.load_cert_chain` on a live context replaces the certificate for every handshake that
follows, so a reload needs no restart and drops no connection. The files are polled (content hash):
this works alike for files we rotate ourselves, for a Secret volume (which Kubernetes swaps through a
symlink) and for cert-manager. A failed load (a key that does not match its certificate while files
are half-written) keeps the previous certificate and is tried again on the next tick.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

from webhook import certs

log = logging.getLogger("sluice.webhook")

# TLS 1.2 needs ECDHE with AEAD ciphers; TLS 1.3 suites are fixed by OpenSSL and all strong.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    return ctx


class CertReloader:
    """Owns the server's SSLContext and keeps it in step with the files in `directory`."""

    def __init__(
        self,
        directory: Path,
        hosts: list[str],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.directory = directory
        self.hosts = hosts
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.context = server_context()
        self.on_change = on_change or (lambda source, outcome: None)
        self._digest = b""
        self.serial: int | None = None
        self.made = False

    def start(self) -> None:
        """Make certificates when the directory has none, then load them (raises if unusable)."""
        _, self.made = certs.ensure(self.directory, self.hosts, now=self.clock())
        if self.made:
            log.info("wrote a new CA and serving certificate to %s", self.directory)
        if not self.reload():
            raise RuntimeError(f"cannot load the certificate in {self.directory}")

    def _files_digest(self) -> bytes:
        h = hashlib.sha256()
        for name in (certs.TLS_CERT, certs.TLS_KEY):
            try:
                h.update((self.directory / name).read_bytes())
            except OSError:
                return b""
        return h.digest()

    def reload(self) -> bool:
        """Load the files when they changed since the last load. True when the context holds them."""
        digest = self._files_digest()
        if not digest:
            log.warning("certificate files missing in %s; keeping the current certificate", self.directory)
            self.on_change("files", "missing")
            return False
        if digest == self._digest:
            return True
        try:
            self.context.load_cert_chain(self.directory / certs.TLS_CERT, self.directory / certs.TLS_KEY)
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.warning(
                "cannot load the certificate in %s (%s); keeping the current one", self.directory, exc
            )
            self.on_change("files", "failed")
            return False
        # Files that changed while they were loaded are loaded again on the next tick.
        self._digest = digest if self._files_digest() == digest else b""
        bundle = certs.read_bundle(self.directory)
        if bundle is not None:
            cert = certs.serving_certificate(bundle)
            self.serial = cert.serial_number
            log.info(
                "serving certificate loaded",
                extra={
                    "serial": f"{cert.serial_number:x}",
                    "not_after": cert.not_valid_after_utc.isoformat(),
                },
            )
        self.on_change("files", "loaded")
        return True

    def tick(self) -> None:
        """Rotate our own certificate when due, then pick up any change on disk."""
        try:
            if certs.rotate_if_due(self.directory, self.hosts, now=self.clock()) is not None:
                log.info("rotated the serving certificate in %s", self.directory)
                self.on_change("rotation", "issued")
        except (OSError, ValueError) as exc:
            log.warning("certificate rotation failed: %s", exc)
            self.on_change("rotation", "failed")
        self.reload()
