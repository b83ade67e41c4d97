"""`python -m sluice_executor {init,wait}` (also `sluice executor ...`): the pod's executor entry points."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sluice_executor.drivers import MountedSecrets, driver_for
from sluice_executor.podenv import PodEnv, PodEnvError


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="sluice executor")
    parser.add_argument(
        "phase",
        choices=["init", "wait", "resource", "data"],
        help="init: before main; wait: after main; resource ACTION / data: main of those templates",
    )
    parser.add_argument("action", nargs="?", default="", help="the resource template's action")
    parser.add_argument(
        "--kubeconfig",
        default=os.environ.get("SLUICE_KUBECONFIG"),
        help="talk to this cluster instead of using the pod's service account",
    )
    parser.add_argument(
        "--launcher",
        type=Path,
        default=Path(os.environ.get("SLUICE_LAUNCHER", "/usr/local/bin/sluice-launcher")),
    )
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        env = PodEnv.from_env()
    except PodEnvError as exc:
        print(f"executor: {exc}", file=sys.stderr)
        return 1
    secrets = MountedSecrets(env.layout.secrets)

    def drivers(kind: str):
        return driver_for(kind, secrets)

    if args.phase == "init":
        from sluice_executor.init import run_init

        return run_init(env, drivers, args.launcher)
    if args.phase == "resource":
        return asyncio.run(_resource(env, args.action, args.kubeconfig))
    if args.phase == "data":
        return asyncio.run(_data(env, drivers, args.kubeconfig))
    return asyncio.run(_wait(env, drivers, args.kubeconfig))


async def _with_clients(env: PodEnv, who: str, kubeconfig: str | None, kinds: tuple, body) -> int:
    """`body(*clients)` with one API client of each kind open, all closed after whatever happens. A
    client that cannot be made (no service account token, a bad kubeconfig) is the node's error, in the
    termination log where the node shows it, never a traceback."""
    from sluice_executor.wait import conclude

    opened: list = []
    try:
        try:
            for kind in kinds:
                opened.append(await kind.connect(kubeconfig))
        except Exception as exc:
            return conclude(env.layout.termination_log, [f"cannot reach the Kubernetes API: {exc}"], who)
        return await body(*opened)
    finally:
        for client in reversed(opened):
            await client.close()


async def _data(env: PodEnv, drivers, kubeconfig: str | None) -> int:
    from sluice_executor.data import run_data
    from sluice_executor.taskresult import KubeResultAPI

    return await _with_clients(
        env, "data", kubeconfig, (KubeResultAPI,), lambda results: run_data(env, drivers, results)
    )


async def _resource(env: PodEnv, action: str, kubeconfig: str | None) -> int:
    from sluice_executor.kube_resources import KubeResources
    from sluice_executor.resource import run_resource
    from sluice_executor.taskresult import KubeResultAPI

    return await _with_clients(
        env,
        "resource",
        kubeconfig,
        (KubeResultAPI, KubeResources),
        lambda results, resources: run_resource(env, action, resources, results),
    )


async def _wait(env: PodEnv, drivers, kubeconfig: str | None) -> int:
    from sluice_executor.taskresult import KubeResultAPI
    from sluice_executor.wait import Waiter

    return await _with_clients(
        env, "wait", kubeconfig, (KubeResultAPI,), lambda api: Waiter(env, api, drivers).run()
    )


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
