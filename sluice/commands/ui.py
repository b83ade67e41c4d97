"""`sluice ui [--port P] [--local]`: a web UI on 127.0.0.1 for workflows (sluice/ui/).

Without --local it reads the cluster of the user's kubeconfig (as every cluster verb: sluice/cluster.py)
with their own RBAC; with --local, or when no cluster is configured, the runs of `sluice run`.
"""

from __future__ import annotations

import argparse
import sys

from sluice.cli import EXIT_OK
from sluice.cluster import add_cluster_args

DEFAULT_PORT = 2746  # argo server's port: the UI's address is the familiar one


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ui", help="serve a web UI of workflows on 127.0.0.1 (graph, logs, actions)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT}; 0: any)"
    )
    p.add_argument("--local", action="store_true", help="the runs of `sluice run` on this machine")
    p.add_argument(
        "--auth-mode",
        choices=["kubeconfig", "client"],
        default="kubeconfig",
        help="kubeconfig: act as the kubeconfig's user; client: every request acts with its viewer's own "
        "bearer token (log in at /login), only the cluster's address and CA are read (in a pod: "
        "manifests/ui/sluice-ui.yaml)",
    )
    p.add_argument("--ca-file", help="the API server's CA with --auth-mode client (default: the pod's)")
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from sluice.cluster import configured, run_verb  # noqa: PLC0415

    if not 0 <= args.port <= 65535:
        print(f"sluice ui: --port {args.port}: not a port (0 to 65535)", file=sys.stderr)
        return 2

    def ready(port: int) -> None:
        print(f"sluice ui: http://127.0.0.1:{port}/workflows (Ctrl-C to stop)", file=sys.stderr, flush=True)

    if args.auth_mode == "client":
        return _client_mode(args, ready)
    if args.local or not configured(args):
        from sluice.ui.server import serve  # noqa: PLC0415
        from sluice.ui.sources import LocalSource  # noqa: PLC0415

        try:
            asyncio.run(serve(LocalSource(), args.port, ready))
        except OSError as exc:
            print(
                f"sluice ui: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr
            )
            return 1
        return EXIT_OK

    async def body(cluster) -> int:  # type: ignore[no-untyped-def]
        from sluice.ui.server import serve  # noqa: PLC0415
        from sluice.ui.sources import ClusterSource  # noqa: PLC0415

        try:
            await serve(ClusterSource(cluster, args.context, owned=False), args.port, ready)
        except OSError as exc:
            print(
                f"sluice ui: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr
            )
            return 1
        return EXIT_OK

    return run_verb("ui", args, body)


def _client_mode(args: argparse.Namespace, ready) -> int:  # type: ignore[no-untyped-def]
    import asyncio  # noqa: PLC0415

    from sluice.cluster import kubeconfig_path  # noqa: PLC0415
    from sluice.ui.server import serve  # noqa: PLC0415
    from sluice.ui.sources import UiError  # noqa: PLC0415
    from sluice.ui.viewer_auth import NoViewer, Viewers, base_configuration  # noqa: PLC0415

    if args.local:
        print("sluice ui: --auth-mode client reads a cluster: not with --local", file=sys.stderr)
        return 2

    async def main() -> int:
        path = kubeconfig_path(args)
        try:
            base = await base_configuration(path, args.context, args.ca_file)
        except UiError as exc:
            print(f"sluice ui: {exc.message}", file=sys.stderr)
            return 4
        except Exception as exc:  # the loader raises plain exceptions for unreadable or incomplete files
            print(f"sluice ui: cannot load kubeconfig {path}: {' '.join(str(exc).split())}", file=sys.stderr)
            return 4
        namespace = args.namespace or "default"
        await serve(NoViewer(namespace), args.port, ready, Viewers(base, namespace))
        return EXIT_OK

    try:
        return asyncio.run(main())
    except OSError as exc:
        print(f"sluice ui: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
