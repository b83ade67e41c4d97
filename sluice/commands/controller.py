"""`sluice controller`: runs Workflows on a cluster (controller/run.py)."""

from __future__ import annotations

import argparse
import asyncio
import os


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "controller",
        help="run the workflow controller (informers, work queue, engine steps, pods) against a cluster",
        description="Reconcile Workflows: each change to a workflow, its pods or task results is one engine step.",
    )
    p.add_argument(
        "--kubeconfig",
        default=_env("KUBECONFIG") or None,
        help="cluster to run against (default: the pod's service account)",
    )
    p.add_argument(
        "--namespace",
        default=None,
        help="the controller's own namespace: its Lease and configuration (default: the pod's)",
    )
    p.add_argument(
        "--namespaced",
        action="store_true",
        help="watch only --managed-namespace (default: the controller's namespace)",
    )
    p.add_argument(
        "--managed-namespace", default="", help="with --namespaced: the namespace to run workflows in"
    )
    p.add_argument("--configmap", default="sluice-controller-config", help="the configuration ConfigMap")
    p.add_argument(
        "--instance-id",
        default=_env("SLUICE_INSTANCE_ID"),
        help="handle only workflows labelled workflows.argoproj.io/controller-instanceid=ID",
    )
    p.add_argument(
        "--executor-image",
        default=_env("SLUICE_EXECUTOR_IMAGE", "sluice.local/sluice:dev"),
        help="image of the init and wait containers (the configuration's executorImage wins)",
    )
    p.add_argument("--workflow-workers", type=int, default=8, help="workflows reconciled at once")
    p.add_argument("--cron-workflow-workers", type=int, default=2, help="CronWorkflows reconciled at once")
    p.add_argument("--health-port", type=int, default=9090, help="/healthz, /readyz, /metrics over HTTP")
    p.add_argument("--health-host", default="0.0.0.0")
    p.add_argument(
        "--no-leader-elect",
        dest="leader_elect",
        action="store_false",
        help="run without the Lease (one replica only)",
    )
    p.add_argument("--lease-name", default="sluice-controller")
    p.add_argument(
        "--status-subresource",
        choices=("auto", "on", "off"),
        default="auto",
        help="write status through workflows/status (on), the whole object (off, Argo-shaped CRDs), "
        "or find out (auto)",
    )
    p.add_argument(
        "--shutdown-grace", type=float, default=10.0, help="seconds for running reconciles on SIGTERM"
    )
    p.add_argument(
        "--cache-check-seconds",
        type=float,
        default=600.0,
        help="compare the informer caches with a fresh list this often, and relist one that drifted "
        "(0: never)",
    )
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--log-level", default="info")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from controller.run import Settings, default_namespace, serve
    from kube import logs

    logs.configure(args.log_format, args.log_level)
    namespace = args.namespace or default_namespace()
    if args.workflow_workers < 1 or args.cron_workflow_workers < 1:
        print("sluice controller: --workflow-workers and --cron-workflow-workers must be at least 1")
        return 2
    from controller.status import limit_from_env

    try:
        max_workflow_size = limit_from_env(os.environ)
    except ValueError as exc:
        print(f"sluice controller: {exc}")
        return 2
    settings = Settings(
        max_workflow_size=max_workflow_size,
        events_with_annotations=os.environ.get("EVENT_AGGREGATION_WITH_ANNOTATIONS") == "true",  # Argo's
        cache_check_seconds=max(args.cache_check_seconds, 0.0),
        kubeconfig=args.kubeconfig,
        namespace=namespace,
        namespaced=args.namespaced,
        managed_namespace=args.managed_namespace or namespace,
        configmap=args.configmap,
        instance_id=args.instance_id,
        executor_image=args.executor_image,
        workers=args.workflow_workers,
        cron_workers=args.cron_workflow_workers,
        health_host=args.health_host,
        health_port=args.health_port,
        leader_elect=args.leader_elect,
        lease_name=args.lease_name,
        status_subresource=args.status_subresource,
        shutdown_grace=args.shutdown_grace,
    )
    return asyncio.run(serve(settings))
