"""What every cluster verb of the `sluice` CLI shares: flags, connection, errors and exit codes.

The API client itself is set up by kube/client.py (shared with the controller); calls go through
kube/rest.py. This module adds what a command line needs on top: the kubeconfig chosen as kubectl
chooses it (`--kubeconfig`, else `$KUBECONFIG` with ':'-joined files, else ~/.kube/config), `--context`,
the namespace (`-n`, else the context's, else "default"), and errors turned into one line and an exit
code scripts can trust (documented in sluice/cli.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sluice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE

ARGO = "argoproj.io/v1alpha1"
MAX_CAUSES_SHOWN = 50


class CliError(Exception):
    """A failure to report as one line with its exit code (never a traceback)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def add_cluster_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cluster")
    group.add_argument("-n", "--namespace", help="the namespace (default: the context's, else 'default')")
    group.add_argument(
        "--kubeconfig", help="kubeconfig file(s), ':'-joined (default: $KUBECONFIG, ~/.kube/config)"
    )
    group.add_argument("--context", help="the kubeconfig context to use (default: its current context)")


def kubeconfig_path(args: argparse.Namespace) -> str | None:
    """The kubeconfig as kubectl picks it; None when there is none (then the pod's service account)."""
    if getattr(args, "kubeconfig", None):
        return str(args.kubeconfig)
    env = os.environ.get("KUBECONFIG")
    if env:
        existing = [p for p in env.split(os.pathsep) if p and os.path.isfile(os.path.expanduser(p))]
        return os.pathsep.join(existing) or None
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.isfile(default) else None


def configured(args: argparse.Namespace) -> bool:
    """Whether a cluster is configured at all (a kubeconfig, or running inside a pod)."""
    from kube.client import in_cluster  # noqa: PLC0415

    return kubeconfig_path(args) is not None or in_cluster()


def context_namespace(path: str, context: str | None) -> str | None:
    from kubernetes_asyncio.config import kube_config  # noqa: PLC0415

    contexts, current = kube_config.list_kube_config_contexts(path)
    chosen = current
    if context:
        chosen = next((c for c in contexts if c.get("name") == context), None)
        if chosen is None:
            raise CliError(f"no context {context!r} in {path}", EXIT_USAGE)
    return ((chosen or {}).get("context") or {}).get("namespace")


def _service_account_namespace() -> str | None:
    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


@dataclass
class Cluster:
    rest: Any  # kube.rest.Rest
    namespace: str
    api_client: Any

    async def close(self) -> None:
        await self.api_client.close()


async def connect(args: argparse.Namespace, timeout: float = 30.0) -> Cluster:
    from kube.client import api_client, in_cluster  # noqa: PLC0415
    from kube.rest import Rest  # noqa: PLC0415

    path = kubeconfig_path(args)
    if path is None and not in_cluster():
        raise CliError(
            "no cluster configured: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config",
            EXIT_UNREACHABLE,
        )
    if path is not None:
        missing = [p for p in path.split(os.pathsep) if p and not os.path.isfile(os.path.expanduser(p))]
        if missing:
            raise CliError(f"kubeconfig {missing[0]} does not exist", EXIT_UNREACHABLE)
    try:
        namespace = args.namespace or (
            context_namespace(path, args.context) if path else _service_account_namespace()
        )
        client = await api_client(path, getattr(args, "context", None))
    except CliError:
        raise
    except Exception as exc:  # the loader raises plain exceptions for unreadable or incomplete files
        raise CliError(f"cannot load kubeconfig {path}: {_one_line(str(exc))}", EXIT_UNREACHABLE) from None
    return Cluster(Rest(client, timeout=timeout), namespace or "default", client)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def api_error_line(err: Any) -> str:
    """An ApiError (kube/rest.py) as one line: every field path of a 422's causes, not only the first."""
    head = f"{err.status} {err.reason}".strip()
    causes = [c for c in err.causes if isinstance(c, dict)]
    if causes:
        shown = "; ".join(
            f"{c.get('field')}: {c.get('message')}" if c.get("field") else str(c.get("message"))
            for c in causes[:MAX_CAUSES_SHOWN]
        )
        if len(causes) > MAX_CAUSES_SHOWN:
            shown += f"; and {len(causes) - MAX_CAUSES_SHOWN} more"
        label = (
            err.message.split(" is invalid")[0].rsplit(": ", 1)[-1] if " is invalid" in err.message else ""
        )
        return _one_line(f"{head}: {label + ' is invalid: ' if label else ''}{shown}")
    return _one_line(f"{head}: {err.message}")


def exit_code_for(err: Any) -> int:
    if err.status == 404:
        return EXIT_NOT_FOUND
    if err.status in (0, 401, 403) or err.status >= 500:
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def run_verb(verb: str, args: argparse.Namespace, body: Callable[[Cluster], Awaitable[int]]) -> int:
    """Connect, run `body`, close; every expected failure becomes `sluice VERB: <one line>` and its code."""
    import aiohttp  # noqa: PLC0415

    from kube.rest import ApiError  # noqa: PLC0415

    async def main() -> int:
        cluster = await connect(args)
        try:
            return await body(cluster)
        finally:
            await cluster.close()

    try:
        return asyncio.run(main())
    except CliError as exc:
        print(f"sluice {verb}: {exc.message}", file=sys.stderr)
        return exc.code
    except ApiError as exc:
        print(f"sluice {verb}: {api_error_line(exc)}", file=sys.stderr)
        return exit_code_for(exc)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        print(
            f"sluice {verb}: cannot reach the cluster: {_one_line(str(exc)) or type(exc).__name__}",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE


def parse_parameters(values: list[str], flag: str = "-p") -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise CliError(f"{flag} expects NAME=VALUE, got {value!r}", EXIT_USAGE)
        out[key] = text
    return out


def run_local(verb: str, body: Callable[[], int]) -> int:
    """`--local` verbs (sluice/localruns.py): the same one-line errors and exit codes, no cluster."""
    try:
        return body()
    except CliError as exc:
        print(f"sluice {verb}: {exc.message}", file=sys.stderr)
        return exc.code
