"""Running the controller: health server, leader election, informers, workers, clean shutdown.

`sluice controller` builds a `Settings` and calls `serve`:

1. /healthz, /readyz, /metrics on the health port at once (a standby replica is ready: it is healthy
   and waiting for the Lease).
2. Leader election on the Lease `sluice-controller` in the controller's namespace (`--no-leader-elect`
   for a single replica outside a cluster).
3. Informers: Workflows and Pods (with the instance-ID selector), WorkflowTaskResults, WorkflowTemplates,
   ClusterWorkflowTemplates, ConfigMaps; all namespaces, or one with `--namespaced`.
4. Once every informer has listed: locks are rebuilt from the workflows' status, every workflow is
   queued, and N workers reconcile (controller/reconciler.py).
5. SIGTERM: stop taking keys, let running reconciles finish (bounded), release the Lease, exit 0. A
   lost Lease exits 1 at once: another replica is about to lead, and two must never act together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from dataclasses import dataclass, replace

from controller import config as config_mod
from controller import status as status_mod
from controller.cron import CronLoop
from controller.event_correlator import CorrelatorSettings
from controller.leader import LeaderElector
from controller.metrics import Metrics
from controller.reconciler import Controller
from kube.cache_check import find_drift
from kube.client import api_client, count_requests
from kube.health import Readiness, build_health_app, serve_health
from kube.informer import Informer
from kube.rest import Rest
from workflow.labels import LABEL_INSTANCE

log = logging.getLogger("sluice.controller")

ARGO = ("argoproj.io", "v1alpha1")
MAX_OPERATION_SECONDS = 30.0  # Argo's MAX_OPERATION_TIME
LIST_PAGE = 500  # objects per list request: a relist or cache check never holds thousands at once
EVENTS_GRACE_SECONDS = 5.0  # queued events sent on SIGTERM, at most this long


@dataclass(slots=True)
class Settings:
    kubeconfig: str | None = None
    namespace: str = "sluice"  # the controller's own namespace: Lease and configuration
    namespaced: bool = False  # watch only `managed_namespace`
    managed_namespace: str = ""
    configmap: str = "sluice-controller-config"
    instance_id: str = ""
    executor_image: str = "sluice.local/sluice:dev"
    workers: int = 8
    cron_workers: int = 2
    health_host: str = "0.0.0.0"
    health_port: int = 9090
    leader_elect: bool = True
    lease_name: str = "sluice-controller"
    identity: str = ""
    status_subresource: str = "auto"
    shutdown_grace: float = 10.0
    max_workflow_size: int = status_mod.MAX_WORKFLOW_SIZE  # Argo's MAX_WORKFLOW_SIZE (environment)
    cache_check_seconds: float = 600.0  # informer caches compared with a fresh list this often; 0: never
    # Argo's EVENT_AGGREGATION_WITH_ANNOTATIONS=true (environment): node events combined per node only
    events_with_annotations: bool = False


def event_rules(rules: CorrelatorSettings, with_annotations_env: bool) -> CorrelatorSettings:
    """The configuration's `events` rules, with annotations in the group key when Argo's environment
    variable asks for it (either one turning it on is enough)."""
    if with_annotations_env and not rules.aggregate_with_annotations:
        return replace(rules, aggregate_with_annotations=True)
    return rules


def _instance_selector(instance_id: str) -> str:
    return f"{LABEL_INSTANCE}={instance_id}" if instance_id else f"!{LABEL_INSTANCE}"


class Runner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.readiness = Readiness()
        self.tasks: list[asyncio.Task] = []
        self.workers: list[asyncio.Task] = []
        self.ctl: Controller | None = None
        self.cron: CronLoop | None = None

    def _load_config(self, kind: str, obj: dict) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("name") != self.settings.configmap or meta.get("namespace") != self.settings.namespace:
            return
        assert self.ctl is not None
        if kind == "DELETED":
            self.ctl.config = config_mod.ControllerConfig(instance_id=self.settings.instance_id)
            self.metrics.custom.ttl_seconds = None
            self._configure_events()
            return
        try:
            cfg = config_mod.parse(obj.get("data"))
        except config_mod.ConfigError as exc:
            log.error(
                "controller configuration refused; keeping the previous one", extra={"problem": str(exc)}
            )
            return
        for warning in cfg.warnings:
            log.warning("controller configuration", extra={"problem": warning})
        if cfg.instance_id != self.settings.instance_id and cfg.instance_id:
            log.warning(
                "instanceID changes need a restart; keeping the one started with",
                extra={"configured": cfg.instance_id, "running": self.settings.instance_id},
            )
        self.ctl.config = cfg
        self.metrics.custom.ttl_seconds = cfg.metrics_ttl_seconds
        self._configure_events()
        log.info(
            "controller configuration loaded",
            extra={"parallelism": cfg.parallelism, "namespace_parallelism": cfg.namespace_parallelism},
        )

    def _configure_events(self) -> None:
        assert self.ctl is not None
        cfg = self.ctl.config
        rules = event_rules(cfg.events, self.settings.events_with_annotations)
        self.ctl.events.configure(rules, cfg.event_update_interval)

    def informers(self, api) -> list[Informer]:
        from kubernetes_asyncio import client

        ctl = self.ctl
        assert ctl is not None
        s = self.settings
        custom = client.CustomObjectsApi(api)
        core = client.CoreV1Api(api)
        ns = s.managed_namespace if s.namespaced else ""
        instance = _instance_selector(s.instance_id)

        def custom_args(plural: str, selector: str | None = None):
            args = {"group": ARGO[0], "version": ARGO[1], "plural": plural}
            if selector:
                args["label_selector"] = selector
            if ns:
                return custom.list_namespaced_custom_object, {**args, "namespace": ns}
            return custom.list_cluster_custom_object, args

        def core_args(namespaced_fn, cluster_fn, selector: str | None = None):
            args = {"label_selector": selector} if selector else {}
            if ns:
                return namespaced_fn, {**args, "namespace": ns}
            return cluster_fn, args

        wf_fn, wf_args = custom_args("workflows", instance)
        tr_fn, tr_args = custom_args("workflowtaskresults", "workflows.argoproj.io/workflow")
        wft_fn, wft_args = custom_args("workflowtemplates")
        pod_fn, pod_args = core_args(
            core.list_namespaced_pod,
            core.list_pod_for_all_namespaces,
            f"workflows.argoproj.io/workflow,{instance}",
        )
        cm_fn, cm_args = core_args(core.list_namespaced_config_map, core.list_config_map_for_all_namespaces)
        ctl.config_maps.handlers.append(self._load_config)
        page = {"page_size": LIST_PAGE}
        out = [
            Informer.into("workflows", wf_fn, wf_args, ctl.workflows, **page),
            Informer.into("pods", pod_fn, pod_args, ctl.pods, raw=True, **page),
            Informer.into("workflowtaskresults", tr_fn, tr_args, ctl.results, **page),
            Informer.into("workflowtemplates", wft_fn, wft_args, ctl.templates.namespaced, **page),
            Informer.into("configmaps", cm_fn, cm_args, ctl.config_maps, raw=True, **page),
        ]
        if not s.namespaced:
            cwft_fn, cwft_args = custom_args("clusterworkflowtemplates")
            out.append(Informer.into("clusterworkflowtemplates", cwft_fn, cwft_args, ctl.templates.cluster))
        if self.cron is not None:  # the CronWorkflow loop (controller/cron.py)
            cron_fn, cron_args = custom_args("cronworkflows", instance)
            out.append(Informer.into("cronworkflows", cron_fn, cron_args, self.cron.crons))
        if ns and ns != s.namespace:  # the configuration lives in the controller's own namespace
            out.append(
                Informer.into(
                    "controller-config",
                    core.list_namespaced_config_map,
                    {"namespace": s.namespace, "field_selector": f"metadata.name={s.configmap}"},
                    ctl.config_maps,
                    raw=True,
                )
            )
        return out

    def _count_phases(self) -> None:
        if self.ctl is None:
            return
        counts = dict.fromkeys(("Pending", "Running", "Succeeded", "Failed", "Error"), 0)
        for wf in self.ctl.workflows:
            phase = (wf.get("status") or {}).get("phase") or "Pending"
            if phase in counts:
                counts[phase] += 1
        for phase, n in counts.items():
            self.metrics.gauge.set(n, phase=phase)

    async def _worker(self) -> None:
        ctl = self.ctl
        assert ctl is not None
        queue = ctl.queue
        while (key := await queue.get()) is not None:
            self.metrics.workers_busy.set(self.metrics.workers_busy.get() + 1)
            try:
                await asyncio.wait_for(ctl.reconcile(key), MAX_OPERATION_SECONDS)
                queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                cause = type(exc).__name__
                self.metrics.errors.inc(cause=cause)
                delay = queue.retry(key)
                log.warning(
                    "reconcile failed; retrying",
                    extra={
                        "workflow": key,
                        "error": str(exc)[:300],
                        "cause": cause,
                        "retry_seconds": round(delay, 3),
                    },
                )
            finally:
                self.metrics.workers_busy.set(self.metrics.workers_busy.get() - 1)
                queue.done(key)

    async def _check_caches(self, informers: list[Informer]) -> None:
        """Every `cache_check_seconds`, each informer's cache against a fresh list (kube/cache_check.py);
        one that drifted (a watch that went quiet, a lost event) is counted, logged and relisted."""
        while True:
            await asyncio.sleep(self.settings.cache_check_seconds)
            for inf in informers:
                if inf.store is None or not inf.synced:
                    continue
                try:
                    drift = await find_drift(inf, inf.store)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # API errors, timeouts: the next round tries again
                    log.warning("cache check failed", extra={"resource": inf.name, "error": str(exc)[:300]})
                    continue
                self.metrics.cache_checks.inc(resource=inf.name)
                if not drift:
                    continue
                for kind in ("missing", "extra", "stale"):
                    keys = getattr(drift, kind)
                    if keys:
                        self.metrics.cache_drift.inc(len(keys), resource=inf.name, kind=kind)
                log.warning(
                    "informer cache drifted from the API server; relisting",
                    extra={
                        "resource": inf.name,
                        "missing": len(drift.missing),
                        "extra": len(drift.extra),
                        "stale": len(drift.stale),
                        "examples": ["/".join(k) for k in (drift.missing + drift.extra + drift.stale)[:5]],
                    },
                )
                self._relist(inf)

    def _relist(self, inf: Informer) -> None:
        """Start the informer again: it lists first, and its cache reports the differences as events."""
        name = f"informer-{inf.name}"
        for i, task in enumerate(self.tasks):
            if task.get_name() == name:
                task.cancel()
                self.tasks[i] = asyncio.create_task(inf.run(), name=name)
                return

    async def _lead(self, api) -> None:
        ctl = self.ctl
        assert ctl is not None
        informers = self.informers(api)
        synced = asyncio.Event()

        def on_synced(name: str) -> None:
            self.readiness.set(name, True)
            if all(i.synced for i in informers):
                synced.set()

        for inf in informers:
            self.readiness.set(inf.name, False)
            inf.on_synced = lambda ok, name=inf.name: on_synced(name)
            self.tasks.append(asyncio.create_task(inf.run(), name=f"informer-{inf.name}"))
        await synced.wait()
        ctl.locks.rebuild(list(ctl.workflows))
        for wf in ctl.workflows:
            ctl.queue.add(f"{wf['metadata'].get('namespace')}/{wf['metadata'].get('name')}")
        log.info(
            "informers synced; reconciling",
            extra={"workflows": len(ctl.workflows), "pods": len(ctl.pods), "workers": self.settings.workers},
        )
        ctl.events.start()
        self.workers = [
            asyncio.create_task(self._worker(), name=f"worker-{i}") for i in range(self.settings.workers)
        ]
        if self.settings.cache_check_seconds > 0:
            self.tasks.append(asyncio.create_task(self._check_caches(informers), name="cache-check"))
        if self.cron is not None:
            self.tasks.append(asyncio.create_task(self.cron.run(self.settings.cron_workers), name="cron"))

    async def serve(self, stop: asyncio.Event) -> int:
        s = self.settings
        api = await api_client(s.kubeconfig)
        count_requests(
            api, lambda verb, resource: self.metrics.k8s_requests.inc(verb=verb, resource=resource)
        )
        rest = Rest(api)
        identity = s.identity or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
        self.ctl = Controller(
            rest,
            executor_image=s.executor_image,
            identity=identity,
            status_subresource=s.status_subresource,
            metrics=self.metrics,
            max_workflow_size=s.max_workflow_size,
        )
        self.ctl.config = config_mod.ControllerConfig(instance_id=s.instance_id)
        self._configure_events()
        self.cron = CronLoop(
            rest,
            self.ctl.workflows,
            self.ctl.templates,
            now=self.ctl.now,
            status_subresource=s.status_subresource,
        )
        cron = self.cron
        self.metrics.queue_depth.read = self.ctl.queue.depth
        self.metrics.before_render = self._count_phases
        health = await serve_health(
            build_health_app(lambda: self.metrics.render() + cron.render_metrics(), self.readiness),
            s.health_host,
            s.health_port,
        )
        log.info("health and metrics", extra={"url": f"http://{s.health_host}:{s.health_port}"})
        elector = LeaderElector(rest, s.namespace, s.lease_name, identity) if s.leader_elect else None
        code = 0
        try:
            if elector is not None:
                acquiring = asyncio.create_task(elector.acquire())
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not acquiring.done():
                    acquiring.cancel()
                    return 0
                stopping.cancel()
            self.metrics.leader.set(1)
            await self._lead(api)
            waits = {asyncio.create_task(stop.wait())}
            if elector is not None:
                waits.add(asyncio.create_task(elector.hold()))
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if not stop.is_set():
                code = 1  # lost the Lease: stop acting now
                self.metrics.leader.set(0)
        finally:
            self.readiness.stopping = True
            assert self.ctl is not None
            self.ctl.queue.close()
            cron.queue.close()
            if self.workers and code == 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        asyncio.gather(*self.workers, return_exceptions=True), s.shutdown_grace
                    )
            for task in [*self.workers, *self.tasks]:
                task.cancel()
            await asyncio.gather(*self.workers, *self.tasks, return_exceptions=True)
            # the events of finished reconciles, briefly; none after a lost Lease
            await self.ctl.events.stop(EVENTS_GRACE_SECONDS if code == 0 else 0)
            if elector is not None and code == 0:
                await elector.release()
            await health.cleanup()
            await api.close()
        return code


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return await Runner(settings).serve(stop)


def default_namespace() -> str:
    path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip() or "sluice"
    return os.environ.get("POD_NAMESPACE", "sluice")
