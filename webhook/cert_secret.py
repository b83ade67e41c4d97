"""Certificates kept in a Secret, shared by the webhook's replicas, and the caBundle patched into the
webhook configurations.

The first replica to start with an empty Secret issues a CA and serving certificate and creates the
Secret; a replica that loses the create race adopts the winner's. Rotation happens on disk
(tls.py's tick, before expiry); `reconcile` then pushes the rotated set to the Secret, or adopts the
Secret when another replica rotated first, so every replica ends up serving one certificate set, and
the caBundle always carries the CA(s) of that set (a rotated CA is bundled with the previous one).

The API is behind two small protocols so the decisions are unit-tested without a cluster; cluster.py
implements them with kubernetes_asyncio.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path
from typing import Protocol

from cryptography import x509

from webhook import certs

log = logging.getLogger("sluice.webhook")

Files = dict[str, bytes]


class SecretApi(Protocol):
    async def read(self) -> tuple[Files, str] | None:
        """(data, resourceVersion), or None when the Secret does not exist."""
        ...

    async def create(self, data: Files) -> bool:
        """False when it already exists (another replica created it first)."""
        ...

    async def replace(self, data: Files, resource_version: str) -> bool:
        """False on a conflict (it changed since `resource_version`)."""
        ...


class WebhookConfigApi(Protocol):
    async def ca_bundles(self) -> dict[tuple[str, int], str]:
        """{(configuration kind, webhook index): caBundle (base64)} for every webhook we own."""
        ...

    async def set_ca_bundle(self, kind: str, indexes: list[int], ca_bundle: str) -> None: ...


def _bundle(data: Files) -> certs.Bundle | None:
    if not all(data.get(k) for k in (certs.CA_CERT, certs.TLS_CERT, certs.TLS_KEY)):
        return None
    return certs.Bundle(
        ca_cert=data[certs.CA_CERT],
        tls_cert=data[certs.TLS_CERT],
        tls_key=data[certs.TLS_KEY],
        ca_key=data.get(certs.CA_KEY, b""),
    )


def _issued(bundle: certs.Bundle) -> dt.datetime:
    return x509.load_pem_x509_certificate(bundle.tls_cert).not_valid_before_utc


async def bootstrap(
    api: SecretApi, directory: Path, hosts: list[str], *, now: dt.datetime | None = None
) -> certs.Bundle:
    """The Secret's certificates written to `directory`; made and stored first when there are none."""
    found = await api.read()
    bundle = _bundle(found[0]) if found else None
    if bundle is None:
        fresh = certs.issue(hosts, now=now)
        if found is None:
            stored = await api.create(fresh.as_files())
        else:  # the Secret exists but is empty or incomplete (e.g. created by the manifests)
            stored = await api.replace(fresh.as_files(), found[1])
        if stored:
            log.info("created the webhook certificate Secret")
            bundle = fresh
        else:
            again = await api.read()
            bundle = _bundle(again[0]) if again else None
            if bundle is None:
                raise RuntimeError("the certificate Secret is being written by someone else; retry")
    certs.write_bundle(directory, bundle)
    return bundle


async def reconcile(
    api: SecretApi, directory: Path, *, now: dt.datetime | None = None
) -> certs.Bundle | None:
    """Make the Secret and `directory` agree; returns the set both now hold (None if unreadable)."""
    local = certs.read_bundle(directory)
    found = await api.read()
    remote = _bundle(found[0]) if found else None
    if local is None:
        if remote is not None:
            certs.write_bundle(directory, remote)
        return remote
    if remote is None:
        ok = await (
            api.create(local.as_files()) if found is None else api.replace(local.as_files(), found[1])
        )
        return local if ok else None
    if remote == local:
        return local
    remote_due = certs.needs_rotation(certs.serving_certificate(remote), now=now)
    if remote_due and _issued(local) > _issued(remote):
        if await api.replace(local.as_files(), found[1]):
            log.info("stored the rotated certificate in the Secret")
            return local
        again = await api.read()
        remote = _bundle(again[0]) if again else None
        if remote is None:
            return None
    certs.write_bundle(directory, remote)  # another replica's set wins; tls.py reloads it
    log.info("adopted the certificate in the Secret")
    return remote


async def patch_ca_bundles(api: WebhookConfigApi, ca_pem: bytes) -> int:
    """Set caBundle on every webhook whose bundle differs; the number of webhooks patched."""
    wanted = base64.b64encode(ca_pem).decode()
    stale: dict[str, list[int]] = {}
    for (kind, index), current in (await api.ca_bundles()).items():
        if current != wanted:
            stale.setdefault(kind, []).append(index)
    for kind, indexes in stale.items():
        await api.set_ca_bundle(kind, indexes, wanted)
        log.info("patched caBundle", extra={"configuration": kind, "webhooks": len(indexes)})
    return sum(len(v) for v in stale.values())
