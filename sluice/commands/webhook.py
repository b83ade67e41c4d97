"""`sluice webhook`: the admission webhook over HTTPS (webhook/run.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "webhook",
        help="run the admission webhook (validate, default, enforce WorkflowPolicies) over HTTPS",
        description="Serve /validate, /mutate, /healthz, /readyz and /metrics over HTTPS (TLS 1.2+).",
    )
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument(
        "--health-port",
        type=int,
        default=0,
        help="also serve /healthz, /readyz and /metrics over plain HTTP on this port (probes)",
    )
    p.add_argument(
        "--cert-dir",
        type=Path,
        default=Path("/tmp/sluice-webhook-certs"),
        help="ca.crt, tls.crt, tls.key; made here (with a new CA) when absent, reloaded on change",
    )
    p.add_argument(
        "--tls-host",
        action="append",
        default=[],
        metavar="NAME",
        help="extra DNS name or IP for a generated certificate (localhost is always included)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--kubeconfig", help="read templates, policies and defaults from this cluster")
    source.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="resolve templateRefs from the YAML files in DIR (no cluster)",
    )
    p.add_argument("--policies", type=Path, metavar="DIR", help="WorkflowPolicy files (with --templates)")
    p.add_argument(
        "--defaults",
        type=Path,
        metavar="FILE",
        help="workflow defaults: a ConfigMap with workflowDefaults, or the defaults Workflow",
    )
    p.add_argument(
        "--namespace",
        default=os.environ.get("POD_NAMESPACE", "sluice"),
        help="the webhook's own namespace (in a cluster)",
    )
    p.add_argument(
        "--watch-namespace",
        default="",
        help="in a cluster: read WorkflowTemplates of this namespace only (namespaced installs)",
    )
    p.add_argument(
        "--defaults-configmap",
        default="sluice-workflow-defaults",
        help="in a cluster: the ConfigMap (in --namespace) whose workflowDefaults key holds defaults",
    )
    p.add_argument(
        "--cert-secret",
        default="",
        help="in a cluster: keep generated certificates in this Secret and patch caBundle",
    )
    p.add_argument(
        "--webhook-configurations",
        default="sluice-webhook",
        help="name of the Validating and Mutating webhook configurations to patch caBundle into",
    )
    p.add_argument("--service", default="sluice-webhook", help="the Service name, for certificate SANs")
    p.add_argument("--deadline", type=float, default=4.0, help="seconds per request before a Timeout denial")
    p.add_argument("--max-request-bytes", type=int, default=8 * 1024 * 1024)
    p.add_argument("--workers", type=int, default=2, help="threads that run checks")
    p.add_argument(
        "--policy-workers",
        type=int,
        default=2,
        metavar="N",
        help="processes that evaluate policy rules, each stopped at --policy-timeout (0: in the check's thread)",
    )
    p.add_argument(
        "--policy-timeout",
        type=float,
        default=3.0,
        help="seconds a policy evaluation may run before it is stopped",
    )
    p.add_argument(
        "--template-referencing",
        choices=("", "Strict", "Secure"),
        default="",
        help="as the controller's workflowRestrictions: only workflowTemplateRef workflows are admitted",
    )
    p.add_argument(
        "--check-cache",
        type=int,
        default=128,
        metavar="N",
        help="keep the check results of the last N distinct objects (0: off)",
    )
    p.add_argument(
        "--poll-seconds", type=float, default=10.0, help="how often files and certificates are re-read"
    )
    p.add_argument("--shutdown-grace", type=float, default=3.0)
    p.add_argument(
        "--evaluator",
        choices=("cel-rust", "cel-python"),
        default="cel-rust",
        help="CEL evaluator for policies (same answers; cel-rust is faster)",
    )
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--log-level", default="info")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kube import logs
    from webhook import certs
    from webhook.run import WebhookConfig, serve, tune_gc
    from webhook.server import Settings

    logs.configure(args.log_format, args.log_level)
    in_cluster = (
        not args.kubeconfig and not args.templates and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    )
    hosts = list(certs.DEFAULT_HOSTS) + list(args.tls_host)
    if args.kubeconfig or in_cluster:
        hosts += certs.service_hosts(args.service, args.namespace)
    config = WebhookConfig(
        port=args.port,
        host=args.host,
        health_port=args.health_port,
        cert_dir=args.cert_dir,
        hosts=hosts,
        templates=args.templates,
        policies=args.policies,
        defaults=args.defaults,
        kubeconfig=args.kubeconfig,
        in_cluster=in_cluster,
        namespace=args.namespace,
        defaults_configmap=args.defaults_configmap,
        watch_namespace=args.watch_namespace,
        cert_secret=args.cert_secret,
        webhook_configurations=args.webhook_configurations,
        poll_seconds=args.poll_seconds,
        shutdown_grace=args.shutdown_grace,
        evaluator=args.evaluator,
        check_cache=args.check_cache,
        template_referencing=args.template_referencing,
        settings=Settings(
            deadline=args.deadline,
            max_body=args.max_request_bytes,
            workers=args.workers,
            policy_workers=args.policy_workers,
            policy_timeout=args.policy_timeout,
        ),
    )
    tune_gc()
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        print(f"sluice webhook: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"sluice webhook: {exc}", file=sys.stderr)
        return 2
    return 0
