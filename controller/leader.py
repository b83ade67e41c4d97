"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does it.

A replica becomes leader by writing its identity into the Lease when it is free: absent, released
(empty holder), or expired. Expiry is judged by the local clock from when this replica last saw the
record change, never by comparing the holder's timestamps with our clock (no clock-skew assumption).
Every write carries the resourceVersion read, so two candidates cannot both win.

The leader renews every `retry` seconds; if it cannot renew within `renew_deadline` it has lost
(another replica may take over after `lease_seconds`), and `hold()` returns so the process stops
working at once. A clean shutdown releases the Lease so a standby takes over without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from kube.rest import ApiError, Rest

log = logging.getLogger("sluice.controller")

API = "coordination.k8s.io/v1"


def _micro(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        rest: Rest,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_seconds: float = 15,
        renew_deadline: float = 10,
        retry: float = 2,
    ) -> None:
        self.rest, self.namespace, self.name, self.identity = rest, namespace, name, identity
        self.lease_seconds, self.renew_deadline, self.retry = lease_seconds, renew_deadline, retry
        self._seen: tuple[Any, float] | None = None  # (holder, renewTime, transitions), local time seen
        self._lease: dict[str, Any] | None = None

    def _spec(self, transitions: int, acquired: str | None = None) -> dict[str, Any]:
        now = _micro(datetime.now(UTC))
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_seconds),
            "acquireTime": acquired or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    async def try_acquire_or_renew(self) -> bool:
        try:
            lease = await self.rest.get(API, "Lease", self.namespace, self.name)
        except ApiError as exc:
            if exc.status != 404:
                raise
            body = {
                "apiVersion": API,
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(0),
            }
            try:
                self._lease = await self.rest.create(body, self.namespace)
                return True
            except ApiError as exc2:
                if exc2.status == 409:
                    return False
                raise
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        record = (holder, spec.get("renewTime"), spec.get("leaseTransitions"))
        now = time.monotonic()
        if self._seen is None or self._seen[0] != record:
            self._seen = (record, now)
        duration = float(spec.get("leaseDurationSeconds") or self.lease_seconds)
        expired = now - self._seen[1] > duration
        if holder and holder != self.identity and not expired:
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if holder == self.identity else 1)
        acquired = spec.get("acquireTime") if holder == self.identity else None
        lease["spec"] = self._spec(transitions, acquired)
        try:
            self._lease = await self.rest.replace(lease)
        except ApiError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    async def acquire(self) -> None:
        """Wait until this replica leads."""
        logged = False
        while True:
            try:
                if await self.try_acquire_or_renew():
                    log.info(
                        "became leader",
                        extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity},
                    )
                    return
                if not logged:
                    log.info("waiting for the leader lease", extra={"lease": f"{self.namespace}/{self.name}"})
                    logged = True
            except Exception as exc:  # API errors, timeouts, lost connections: retried
                log.warning("leader election failed; retrying", extra={"error": str(exc)[:300]})
            await asyncio.sleep(self.retry)

    async def hold(self) -> None:
        """Renew until a renewal deadline is missed (or the Lease is taken); then return."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.retry)
            try:
                if await self.try_acquire_or_renew():
                    last = time.monotonic()
                    continue
                log.error("leader lease taken by another replica")
                return
            except Exception as exc:  # API errors, timeouts, lost connections: retried
                log.warning("lease renewal failed", extra={"error": str(exc)[:300]})
            if time.monotonic() - last > self.renew_deadline:
                log.error("leader lease not renewed in time", extra={"seconds": self.renew_deadline})
                return

    async def release(self) -> None:
        lease = self._lease
        if not lease or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
            return
        lease = {**lease, "spec": {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1}}
        try:
            await self.rest.replace(lease)
            log.info("leader lease released")
        except Exception as exc:  # API errors, timeouts, lost connections: retried
            log.warning("leader lease not released", extra={"error": str(exc)[:300]})
