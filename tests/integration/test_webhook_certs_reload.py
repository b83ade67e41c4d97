"""Certificates change under a running webhook: picked up by new connections, no restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import time

from aiohttp import web
from cryptography import x509
from test_webhook_support import WebhookProcess, client_context, free_port

from webhook import certs
from webhook.tls import CertReloader


def served_serial(port: int, ca_file) -> int:
    ctx = client_context(ca_file)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


def wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_new_certificate_in_the_directory_is_served_without_a_restart(tmp_path):
    with WebhookProcess(tmp_path) as proc:
        ca_file = proc.cert_dir / "ca.crt"
        before = served_serial(proc.port, ca_file)
        pid = proc.proc.pid
        # Replace the serving certificate, signed by the same CA (what our rotation does).
        fresh = certs.issue(["localhost", "127.0.0.1"], ca=certs.read_bundle(proc.cert_dir))
        certs.write_bundle(proc.cert_dir, fresh)
        new_serial = x509.load_pem_x509_certificate(fresh.tls_cert).serial_number
        assert new_serial != before
        assert wait_for(lambda: served_serial(proc.port, ca_file) == new_serial)
        assert proc.proc.pid == pid and proc.proc.poll() is None


def test_mounted_certificates_from_another_ca_are_picked_up(tmp_path):
    mounted = tmp_path / "mounted"
    first = certs.issue(["localhost"])
    certs.write_bundle(mounted, certs.Bundle(first.ca_cert, first.tls_cert, first.tls_key))
    with WebhookProcess(tmp_path, cert_dir=mounted) as proc:
        assert not (mounted / "ca.key").exists()  # we did not take over the mounted set
        other = certs.issue(["localhost"])  # e.g. cert-manager issued from a new CA
        ca2 = tmp_path / "ca2.crt"
        ca2.write_bytes(other.ca_cert)
        certs.write_bundle(mounted, certs.Bundle(other.ca_cert, other.tls_cert, other.tls_key))

        def trusted_by_new_ca():
            try:
                served_serial(proc.port, ca2)
                return True
            except ssl.SSLCertVerificationError:
                return False

        assert wait_for(trusted_by_new_ca)


def test_a_broken_certificate_keeps_the_old_one_serving(tmp_path):
    with WebhookProcess(tmp_path) as proc:
        ca_file = proc.cert_dir / "ca.crt"
        before = served_serial(proc.port, ca_file)
        (proc.cert_dir / "tls.crt").write_text(
            "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"
        )
        assert wait_for(lambda: "cannot load the certificate" in proc.log_text())
        assert served_serial(proc.port, ca_file) == before


async def test_rotation_before_expiry_is_served_by_the_running_server(tmp_path):
    # The certificate was made 300 days ago (still valid for real clients today); the clock then moves
    # to today, when less than a third of its life is left.
    today = dt.datetime.now(dt.UTC)
    clock = [today - dt.timedelta(days=300)]
    reloader = CertReloader(tmp_path, ["localhost", "127.0.0.1"], clock=lambda: clock[0])
    reloader.start()
    app = web.Application()

    async def hello(request):
        return web.Response(text="ok")

    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=reloader.context)
    await site.start()
    try:
        serial = await asyncio.to_thread(served_serial, port, tmp_path / "ca.crt")
        assert serial == reloader.serial
        clock[0] = today - dt.timedelta(days=299)
        reloader.tick()  # not due yet
        assert await asyncio.to_thread(served_serial, port, tmp_path / "ca.crt") == serial
        clock[0] = today
        reloader.tick()
        rotated = await asyncio.to_thread(served_serial, port, tmp_path / "ca.crt")
        assert rotated != serial and rotated == reloader.serial
    finally:
        await runner.cleanup()
