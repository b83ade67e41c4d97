"""Synchronization (semaphores and mutexes), memoization and custom metrics."""

from __future__ import annotations

from workflow.types.base import Amount, ArgoStruct
from workflow.types.k8s import ConfigMapKeySelector


class SyncDatabaseRef(ArgoStruct):
    key: str


class SemaphoreRef(ArgoStruct):
    config_map_key_ref: ConfigMapKeySelector | None = None
    namespace: str | None = None
    database: SyncDatabaseRef | None = None


class Mutex(ArgoStruct):
    name: str | None = None
    namespace: str | None = None
    database: bool | None = None


class Synchronization(ArgoStruct):
    """Locks held while a workflow or template runs.

    `semaphore` and `mutex` are Argo v3's singular forms (removed in v4.0); parsing accepts them with a
    warning and moves them into `semaphores` / `mutexes`.
    """

    semaphore: SemaphoreRef | None = None
    mutex: Mutex | None = None
    semaphores: list[SemaphoreRef] | None = None
    mutexes: list[Mutex] | None = None


class Cache(ArgoStruct):
    config_map: ConfigMapKeySelector | None = None


class Memoize(ArgoStruct):
    key: str | None = None
    cache: Cache | None = None
    max_age: str | None = None


class MetricLabel(ArgoStruct):
    key: str
    value: str


class Gauge(ArgoStruct):
    value: str | None = None
    realtime: bool | None = None
    # Set | Add | Sub
    operation: str | None = None


class Histogram(ArgoStruct):
    value: str | None = None
    buckets: list[Amount] | None = None


class Counter(ArgoStruct):
    value: str | None = None


class Prometheus(ArgoStruct):
    name: str | None = None
    labels: list[MetricLabel] | None = None
    help: str | None = None
    when: str | None = None
    gauge: Gauge | None = None
    histogram: Histogram | None = None
    counter: Counter | None = None


class Metrics(ArgoStruct):
    prometheus: list[Prometheus] | None = None
