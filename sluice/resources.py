"""create / list / get / delete of one kind of Argo object, shared by `sluice template` and `sluice cron`.

Files are read like `sluice submit` reads them (YAML/JSON, several documents); objects of another kind
are refused before anything is sent, so a bad file never creates half of its objects.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sluice.cli import EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, run_verb
from sluice.output import age, render, table


def read_objects(files: list[str], kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in files:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
            docs = [d for d in yaml.safe_load_all(text) if d is not None]
        except OSError as exc:
            raise CliError(f"{path}: {exc.strerror or exc}", EXIT_USAGE) from None
        except yaml.YAMLError as exc:
            raise CliError(f"{path}: not YAML: {' '.join(str(exc).split())}", EXIT_USAGE) from None
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict) or doc.get("kind") != kind:
                found = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
                raise CliError(f"{path}: document {i + 1} is a {found}, not a {kind}", EXIT_USAGE)
            out.append(doc)
    return out


class Verbs:
    """The create/list/get/delete sub-commands of one kind (`rows` draws the list table)."""

    def __init__(
        self,
        command: str,
        kind: str,
        noun: str,
        rows: Callable[[list[dict[str, Any]], float], list[list[str]]],
    ) -> None:
        self.command, self.kind, self.noun, self.rows = command, kind, noun, rows

    def register(self, sub: argparse._SubParsersAction) -> None:
        c = sub.add_parser("create", help=f"create {self.noun}s from files")
        c.add_argument("files", nargs="+", metavar="FILE")
        c.add_argument("-o", "--output", choices=["name", "json", "yaml"])
        c.set_defaults(run=self._runner("create", self.create))
        ls = sub.add_parser("list", help=f"list {self.noun}s")
        ls.add_argument("-A", "--all-namespaces", action="store_true")
        ls.add_argument("-l", "--selector", help="label selector")
        ls.add_argument("-o", "--output", choices=["wide", "name", "json", "yaml"])
        ls.set_defaults(run=self._runner("list", self.list))
        g = sub.add_parser("get", help=f"show a {self.noun}")
        g.add_argument("name")
        g.add_argument("-o", "--output", choices=["name", "json", "yaml"], default="yaml")
        g.set_defaults(run=self._runner("get", self.get))
        d = sub.add_parser("delete", help=f"delete {self.noun}s")
        d.add_argument("names", nargs="*", metavar="NAME")
        d.add_argument("--all", action="store_true", help=f"every {self.noun} of the namespace")
        d.set_defaults(run=self._runner("delete", self.delete))
        for p in (c, ls, g, d):
            add_cluster_args(p)

    def _runner(self, verb: str, body: Callable[..., Any]) -> Callable[[argparse.Namespace], int]:
        return lambda args: run_verb(f"{self.command} {verb}", args, lambda c: body(c, args))

    async def create(self, cluster: Cluster, args: argparse.Namespace) -> int:
        objs = read_objects(args.files, self.kind)
        created = []
        for obj in objs:
            created.append(await cluster.rest.create(obj, cluster.namespace))
            if not args.output:
                print(f"{self.kind.lower()}.argoproj.io/{created[-1]['metadata']['name']} created")
        if args.output:
            sys.stdout.write(render(created, args.output, as_list=len(created) > 1))
        return EXIT_OK

    async def fetch(
        self, cluster: Cluster, selector: str | None = None, everywhere: bool = False
    ) -> list[dict]:
        path = await cluster.rest.path(ARGO, self.kind, None if everywhere else cluster.namespace)
        page = await cluster.rest.request("GET", path, query={"labelSelector": selector})
        return sorted(page.get("items") or [], key=lambda o: o["metadata"]["name"])

    async def list(self, cluster: Cluster, args: argparse.Namespace) -> int:
        items = await self.fetch(cluster, args.selector, args.all_namespaces)
        if args.output in ("name", "json", "yaml"):
            sys.stdout.write(render(items, args.output, as_list=True))
        elif not items:
            print(
                f"No {self.noun}s found in {'any namespace' if args.all_namespaces else cluster.namespace}.",
                file=sys.stderr,
            )
        else:
            print("\n".join(table(self.rows(items, time.time()))))
        return EXIT_OK

    async def get(self, cluster: Cluster, args: argparse.Namespace) -> int:
        obj = await cluster.rest.get(ARGO, self.kind, cluster.namespace, args.name)
        sys.stdout.write(render([obj], args.output, as_list=False))
        return EXIT_OK

    async def delete(self, cluster: Cluster, args: argparse.Namespace) -> int:
        if bool(args.names) == bool(args.all):
            raise CliError("give NAME(s) or --all", EXIT_USAGE)
        names = args.names or [o["metadata"]["name"] for o in await self.fetch(cluster)]
        for name in names:
            await cluster.rest.delete(ARGO, self.kind, cluster.namespace, name)
            print(f"{self.kind.lower()}.argoproj.io/{name} deleted")
        return EXIT_OK


def name_age_rows(items: list[dict[str, Any]], now: float) -> list[list[str]]:
    return [["NAME", "AGE"]] + [[o["metadata"]["name"], age(o, now)] for o in items]


def add_lint_verb(sub: argparse._SubParsersAction, what: str) -> None:
    """`<group> lint PATH...`: the files checked exactly as `sluice lint` checks them."""
    lint = sub.add_parser("lint", help=f"validate {what} files (as `sluice lint`)")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument("-o", "--output", choices=["pretty", "json"], default="pretty")
    lint.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    lint.set_defaults(run=_lint)


def _lint(args: argparse.Namespace) -> int:
    from sluice.commands import lint  # noqa: PLC0415 - the checker is imported only when it lints

    return lint.run(args)
