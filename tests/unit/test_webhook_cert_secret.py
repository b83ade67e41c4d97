"""Certificates shared through a Secret by the webhook's replicas, and caBundle patching (the API is a
small in-memory stand-in with the same conflict semantics as the API server)."""

from __future__ import annotations

import base64
import datetime as dt

from webhook import cert_secret, certs

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class MemorySecret:
    def __init__(self, data=None):
        self.data, self.version, self.writes = (dict(data), 1, 0) if data is not None else (None, 0, 0)

    async def read(self):
        return None if self.data is None else (dict(self.data), str(self.version))

    async def create(self, data):
        if self.data is not None:
            return False
        self.data, self.version = dict(data), self.version + 1
        self.writes += 1
        return True

    async def replace(self, data, resource_version):
        if self.data is None or str(self.version) != resource_version:
            return False
        self.data, self.version = dict(data), self.version + 1
        self.writes += 1
        return True


async def test_the_first_replica_creates_the_secret_and_the_second_adopts_it(tmp_path):
    secret = MemorySecret()
    first = await cert_secret.bootstrap(secret, tmp_path / "a", ["svc"], now=NOW)
    second = await cert_secret.bootstrap(secret, tmp_path / "b", ["svc"], now=NOW)
    assert first == second == certs.read_bundle(tmp_path / "b")
    assert secret.writes == 1 and secret.data[certs.CA_KEY]


async def test_a_replica_that_loses_the_create_race_uses_the_winners_set(tmp_path):
    winner = certs.issue(["svc"], now=NOW)

    class Racy(MemorySecret):
        async def create(self, data):  # someone else created it between our read and our create
            self.data, self.version = winner.as_files(), 5
            return False

    got = await cert_secret.bootstrap(Racy(), tmp_path, ["svc"], now=NOW)
    assert got == winner == certs.read_bundle(tmp_path)


async def test_an_empty_secret_from_the_manifests_is_filled(tmp_path):
    secret = MemorySecret({})
    got = await cert_secret.bootstrap(secret, tmp_path, ["svc"], now=NOW)
    assert secret.data[certs.TLS_CERT] == got.tls_cert


async def test_a_rotated_certificate_is_pushed_once_and_adopted_by_the_other_replica(tmp_path):
    secret = MemorySecret()
    await cert_secret.bootstrap(secret, tmp_path / "a", ["svc"], now=NOW)
    await cert_secret.bootstrap(secret, tmp_path / "b", ["svc"], now=NOW)
    later = NOW + dt.timedelta(days=250)
    # Both replicas rotate on disk at about the same time.
    rotated_a = certs.rotate_if_due(tmp_path / "a", ["svc"], now=later)
    rotated_b = certs.rotate_if_due(tmp_path / "b", ["svc"], now=later + dt.timedelta(seconds=1))
    assert rotated_a and rotated_b and rotated_a != rotated_b
    assert await cert_secret.reconcile(secret, tmp_path / "a", now=later) == rotated_a
    # The Secret is fresh now: b gives up its own rotation and serves a's set.
    assert await cert_secret.reconcile(secret, tmp_path / "b", now=later) == rotated_a
    assert certs.read_bundle(tmp_path / "b") == rotated_a
    assert secret.writes == 2
    assert await cert_secret.reconcile(secret, tmp_path / "a", now=later) == rotated_a  # stable


async def test_a_replica_with_a_stale_set_adopts_the_secret(tmp_path):
    secret = MemorySecret()
    await cert_secret.bootstrap(secret, tmp_path, ["svc"], now=NOW)
    newer = certs.issue(["svc"], now=NOW + dt.timedelta(days=1))
    secret.data, secret.version = newer.as_files(), 9
    assert await cert_secret.reconcile(secret, tmp_path, now=NOW + dt.timedelta(days=1)) == newer
    assert certs.read_bundle(tmp_path) == newer


class Configs:
    def __init__(self, bundles):
        self.bundles = bundles
        self.patches = []

    async def ca_bundles(self):
        return dict(self.bundles)

    async def set_ca_bundle(self, kind, indexes, ca_bundle):
        self.patches.append((kind, indexes))
        for i in indexes:
            self.bundles[(kind, i)] = ca_bundle


async def test_ca_bundle_is_patched_only_where_it_differs():
    ca = b"-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"
    good = base64.b64encode(ca).decode()
    api = Configs({("validating", 0): "", ("validating", 1): good, ("mutating", 0): "old"})
    assert await cert_secret.patch_ca_bundles(api, ca) == 2
    assert api.patches == [("validating", [0]), ("mutating", [0])]
    assert await cert_secret.patch_ca_bundles(api, ca) == 0
