"""Running the webhook: configuration, sources (files or a cluster), certificates, the HTTPS site.

`sluice webhook` builds a `WebhookConfig` and calls `serve`. Offline (`--templates DIR`,
`--policies DIR`, `--defaults FILE`) everything comes from files, polled for changes. With a
kubeconfig (or in a pod) templates, policies and defaults come from informers (cluster.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kube.health import Readiness
from webhook import certs
from webhook.admission import Admission, DefaultsHolder
from webhook.check_cache import CheckCache
from webhook.defaults import DefaultsError, parse_defaults
from webhook.limits import LimitedSite
from webhook.metrics import Metrics
from webhook.policy.cel import evaluator
from webhook.policy.engine import PolicySet
from webhook.server import Settings, build_app, build_health_app
from webhook.sources import TemplateStore, documents_in, load_template_dir, yaml_files
from webhook.tls import CertReloader
from workflow.check import CheckCaches, CheckOptions, check_object

log = logging.getLogger("sluice.webhook")


@dataclass(slots=True)
class WebhookConfig:
    port: int = 8443
    host: str = "0.0.0.0"
    health_port: int = 0  # plain HTTP /healthz, /readyz, /metrics; 0 = only on the HTTPS port
    cert_dir: Path = Path("/tmp/sluice-webhook-certs")
    hosts: list[str] = field(default_factory=lambda: list(certs.DEFAULT_HOSTS))
    templates: Path | None = None
    policies: Path | None = None
    defaults: Path | None = None
    kubeconfig: str | None = None
    in_cluster: bool = False
    namespace: str = "sluice"
    watch_namespace: str = ""  # WorkflowTemplates of this namespace only (a namespaced install); "" = all
    defaults_configmap: str = "sluice-workflow-defaults"  # key workflowDefaults (manifests/CONVENTIONS.md)
    cert_secret: str = ""  # in-cluster: keep the certificates in this Secret (namespace above)
    webhook_configurations: str = "sluice-webhook"  # names of the Validating/Mutating configurations
    poll_seconds: float = 10.0
    shutdown_grace: float = 3.0
    evaluator: str = "cel-rust"
    check_cache: int = 128  # CheckReports kept by content (0: none)
    template_referencing: str = ""  # "" | Strict | Secure, as the controller's workflowRestrictions
    settings: Settings = field(default_factory=Settings)


def _fingerprint(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with contextlib.suppress(OSError):
            st = p.stat()
            h.update(f"{p}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()


class FileSources:
    """Templates, policies and defaults read from files, reloaded when the files change."""

    def __init__(
        self, config: WebhookConfig, store: TemplateStore, policies: PolicySet, defaults: DefaultsHolder
    ) -> None:
        self.config, self.store, self.policies, self.defaults = config, store, policies, defaults
        self._seen: dict[str, str] = {}

    def _changed(self, what: str, root: Path | None) -> list[Path] | None:
        if root is None:
            return None
        files = yaml_files(root) if root.exists() else []
        mark = _fingerprint(files)
        if self._seen.get(what) == mark:
            return None
        self._seen[what] = mark
        return files

    def refresh(self) -> None:
        if self._changed("templates", self.config.templates) is not None:
            load_template_dir(self.config.templates, self.store)
            log.info("templates loaded", extra={"count": len(self.store)})
        files = self._changed("policies", self.config.policies)
        if files is not None:
            fresh = PolicySet(self.policies.cel)
            for path, doc in documents_in(files):
                problems = fresh.load_or_keep(doc, previous=self.policies)
                for p in problems:
                    log.warning("policy refused", extra={"file": str(path), "problem": str(p)})
            self.policies.replace_all(fresh)
            log.info("policies loaded", extra={"names": ",".join(self.policies.names)})
        files = self._changed("defaults", self.config.defaults)
        if files:
            docs = [doc for _, doc in documents_in(files)]
            try:
                self.defaults.current = parse_defaults(docs[0] if docs else None)
            except DefaultsError as exc:
                log.warning("workflow defaults refused: %s", exc)


# The cyclic collector's first threshold: Python's 700 new container objects makes a 47 KiB review (about
# 10,000 containers parsed, checked and expanded) pay some 15 young collections, each walking the
# request's live objects again: ~2 ms of a ~12 ms cache miss (benchmarks/RESULTS.md). The webhook's data
# is acyclic JSON freed by reference counting, so collecting less often costs no memory worth counting.
GC_THRESHOLD = (20_000, 10, 10)


def tune_gc() -> None:
    """For the `sluice webhook` process, once its modules are imported: what exists now (modules,
    compiled regexes, the CLI's objects) moves out of the collector's sight (gc.freeze), and young
    collections run every GC_THRESHOLD[0] allocations. Not called by tests that serve in-process."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


async def _every(seconds: float, step: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            step()
        except Exception:
            log.exception("background refresh failed")


async def _policy_workers_started(workers: Any, readiness: Readiness) -> None:
    """Ready only once every policy worker process has started (a request before would wait for one)."""
    readiness.set("policy-workers", False)
    while workers.started < workers.size:
        await asyncio.sleep(0.1)
    readiness.set("policy-workers", True)


async def serve(config: WebhookConfig, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or SIGTERM/SIGINT arrives."""
    metrics = Metrics()
    readiness = Readiness()
    store = TemplateStore()
    try:
        cel = evaluator(config.evaluator)
    except ImportError as exc:  # an image built without the Rust wheel: slower, but the same answers
        log.warning(
            "CEL evaluator unavailable; using cel-python",
            extra={"wanted": config.evaluator, "error": str(exc)},
        )
        cel = evaluator("cel-python")
    policies = PolicySet(cel)
    metrics.policies_refused.read = lambda: len(policies.refused)
    settings = config.settings
    if settings.policy_workers > 0:
        from webhook.policy.worker import PolicyWorkers

        policies.runner = PolicyWorkers(
            cel.name,
            settings.policy_workers,
            timeout=min(settings.policy_timeout, settings.deadline * 0.8),
            memory=settings.policy_memory,
            input_budget=settings.policy_input_budget,
            max_values=settings.policy_max_values,
        )
    defaults = DefaultsHolder()
    # The core's caches (parsed templates, referenced templates' validations) are this program's, shared
    # by the worker threads that run checks: locked.
    caches = CheckCaches.create(threading.Lock)
    admission = Admission(
        source=store,
        policies=policies,
        defaults=defaults,
        checker=functools.partial(check_object, caches=caches),
        cache=CheckCache(config.check_cache) if config.check_cache else None,
        options=CheckOptions(
            missing_reference_is_warning=True,
            template_referencing=config.template_referencing,
            share_expanded=True,  # only read (policies) or packed (webhook/check_cache.py)
        ),
    )
    tasks: list[asyncio.Task] = []
    cluster = None

    readiness.set("certificates", False)
    if config.kubeconfig or config.in_cluster:
        from webhook.cluster import ClusterSources

        cluster = ClusterSources(config, store, policies, defaults, readiness)
        await cluster.start()  # may fetch/create the certificate Secret before the reloader reads the dir
    else:
        files = FileSources(config, store, policies, defaults)
        files.refresh()
        tasks.append(asyncio.create_task(_every(config.poll_seconds, files.refresh)))

    if policies.runner is not None:
        tasks.append(asyncio.create_task(_policy_workers_started(policies.runner, readiness)))
    reloader = CertReloader(
        config.cert_dir,
        config.hosts,
        on_change=lambda source, outcome: metrics.cert_reloads.inc(source=source, outcome=outcome),
    )
    reloader.start()
    readiness.set("certificates", True)
    tasks.append(asyncio.create_task(_every(config.poll_seconds, reloader.tick)))
    if cluster is not None:
        await cluster.after_certificates(reloader)

    app = build_app(admission, settings=config.settings, metrics=metrics, readiness=readiness)
    limits = config.settings.limits
    runner = web.AppRunner(app, handle_signals=False, access_log=None, keepalive_timeout=limits.keepalive)
    await runner.setup()
    site = LimitedSite(
        runner, config.host, config.port, ssl_context=reloader.context, backlog=512, limits=limits
    )
    await site.start()
    log.info(
        "listening", extra={"url": f"https://{config.host}:{config.port}", "evaluator": policies.cel.name}
    )
    health_runner = None
    if config.health_port:
        health_runner = web.AppRunner(
            build_health_app(metrics, readiness), handle_signals=False, access_log=None
        )
        await health_runner.setup()
        await web.TCPSite(health_runner, config.host, config.health_port).start()
        log.info("health and metrics", extra={"url": f"http://{config.host}:{config.health_port}"})

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        # Fail readiness first so endpoints drop this replica, then finish what is in flight.
        readiness.stopping = True
        log.info("stopping", extra={"grace_seconds": config.shutdown_grace})
        await asyncio.sleep(config.shutdown_grace)
    finally:
        if policies.runner is not None:
            policies.runner.close()  # stops any evaluation still running, so threads waiting on it return
        for task in tasks:
            task.cancel()
        if cluster is not None:
            await cluster.stop()
        if health_runner is not None:
            await health_runner.cleanup()
        await runner.cleanup()
