"""`sluice lint PATH...`: check Argo objects in files, directories or stdin, the way admission will.

References (templateRef, workflowTemplateRef) resolve among all the objects given, so a directory
holding workflows and their templates lints as one. Exit codes: 0 all valid, 1 any error, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.errors import Problem
from workflow.load import MAX_BYTES, load_documents, syntax_place
from workflow.positions import Position, locate
from workflow.types import ARGO_GROUP

SUFFIXES = {".yaml", ".yml", ".json"}


@dataclass(slots=True)
class Entry:
    """One line of the report: an object (or a whole file that could not be read)."""

    file: str
    kind: str | None
    name: str | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)  # workflow/positions.py

    def where(self, problem: Problem) -> str:
        """`file:line:col` of the problem's field (its nearest written ancestor), else the file."""
        at = locate(self.positions, problem.field)
        return f"{self.file}:{at[0]}:{at[1]}" if at else self.file

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "name": self.name,
            "errors": [self._problem(p) for p in self.errors],
            "warnings": [self._problem(p) for p in self.warnings],
        }

    def _problem(self, problem: Problem) -> dict[str, Any]:
        out: dict[str, Any] = dict(problem.as_dict())
        at = locate(self.positions, problem.field)
        if at:
            out["line"], out["column"] = at
        return out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lint",
        help="validate Workflows, WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows",
        description="Validate Argo objects in files, directories (recursively: *.yaml, *.yml, *.json) or - (stdin).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", choices=["pretty", "json"], default="pretty")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    files, missing = _expand(args.paths)
    if missing:
        for path in missing:
            print(f"sluice lint: {path}: no such file or directory", file=sys.stderr)
        return 2
    entries = lint_files(files)
    if not entries:
        # Nothing Argo's (or a WorkflowPolicy) in the input: a wrong path or a typo'd apiVersion, not "valid".
        where = ", ".join(_display(f) for f in files) if files else ", ".join(args.paths)
        print(
            f"sluice lint: no Argo objects (argoproj.io/*) or WorkflowPolicies found in {where}",
            file=sys.stderr,
        )
        if args.output == "json":
            sys.stdout.write("[]\n")
        return 1
    if args.output == "json":
        json.dump([e.as_json() for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_pretty(entries, _use_color(args.color))
    return 1 if any(e.errors for e in entries) else 0


def lint_files(files: list[str]) -> list[Entry]:
    # imported here, not at the top: every `sluice` verb imports this module to build the parser, and
    # the checker is ~0.4 s of imports (benchmarks/bench_cli.py)
    from workflow.check import ARGO_KINDS, CheckOptions, check_objects  # noqa: PLC0415

    entries: list[Entry] = []
    argo_docs: list[Any] = []
    argo_entries: list[Entry] = []
    for file in files:
        raw, error = _read(file)
        loaded = load_documents(raw, json_only=file.endswith(".json"), marks=True) if error is None else None
        error = error or (loaded.error if loaded else None)
        if error is not None:
            # A syntax error's place leads the line, as a compiler's: `file:3:1: invalid YAML: ...`.
            at, place = syntax_place(error), {}
            if at:
                place, error = {"": (at[0], at[1])}, at[2]
            entries.append(Entry(_display(file), None, None, errors=[Problem("", error)], positions=place))
            continue
        for doc in loaded.documents:
            data = doc.data
            if isinstance(data, dict) and data.get("kind") == "WorkflowPolicy":
                entries.append(_lint_policy(_display(file), data))
                entries[-1].positions = doc.positions
                continue
            if not isinstance(data, dict) or not str(data.get("apiVersion", "")).startswith(ARGO_GROUP + "/"):
                continue  # a ConfigMap, a PVC, a JSON file that is not a Kubernetes object: not ours
            kind = str(data.get("kind", ""))
            name = _name(data)
            if kind not in ARGO_KINDS:
                entries.append(
                    Entry(
                        _display(file),
                        kind,
                        name,
                        warnings=[
                            Problem(
                                "kind",
                                f"{kind or 'an object without a kind'} is not checked by sluice yet; skipped",
                            )
                        ],
                    )
                )
                continue
            entry = Entry(_display(file), kind, name, positions=doc.positions)
            entries.append(entry)
            argo_entries.append(entry)
            argo_docs.append(data)
    for entry, report in zip(argo_entries, check_objects(argo_docs, CheckOptions(lint=True)), strict=True):
        entry.name = report.name or entry.name
        entry.errors.extend(report.errors)
        entry.warnings.extend(report.warnings)
    return entries


def _lint_policy(file: str, data: dict[str, Any]) -> Entry:
    """A WorkflowPolicy checked as the webhook admits it (webhook/policy/model.py: fields and CEL)."""
    from webhook.policy.cel import evaluator  # noqa: PLC0415 (only when a policy is linted)
    from webhook.policy.model import parse_policy  # noqa: PLC0415

    _, problems = parse_policy(data, evaluator())
    return Entry(file, "WorkflowPolicy", _name(data), errors=list(problems))


def _expand(paths: list[str]) -> tuple[list[str], list[str]]:
    files: list[str] = []
    missing: list[str] = []
    for path in paths:
        if path == "-":
            files.append("-")
        elif os.path.isdir(path):
            files.extend(
                str(p) for p in sorted(Path(path).rglob("*")) if p.suffix in SUFFIXES and p.is_file()
            )
        elif os.path.exists(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def _read(file: str) -> tuple[bytes, str | None]:
    """At most MAX_BYTES + 1 bytes, so that a huge file costs no more than the limit."""
    try:
        if file == "-":
            return sys.stdin.buffer.read(MAX_BYTES + 1), None
        with open(file, "rb") as fh:
            return fh.read(MAX_BYTES + 1), None
    except OSError as exc:
        return b"", f"cannot read: {exc.strerror}"


def _display(file: str) -> str:
    return "<stdin>" if file == "-" else file


def _name(data: dict[str, Any]) -> str | None:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None
    name = meta.get("name") or meta.get("generateName")
    return str(name) if name is not None else None


def _use_color(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _print_pretty(entries: list[Entry], color: bool) -> None:
    from workflow.check import ARGO_KINDS  # noqa: PLC0415

    red, yellow, green, reset = ("\033[31m", "\033[33m", "\033[32m", "\033[0m") if color else ("",) * 4
    checked = errors = 0
    for e in entries:
        subject = f": {e.kind}/{e.name}" if e.kind else ""
        for p in e.errors:
            print(f"{e.where(p)}{subject}: {red}{p}{reset}")
        for p in e.warnings:
            print(f"{e.where(p)}{subject}: {yellow}warning: {p}{reset}")
        checked += e.kind in ARGO_KINDS or e.kind == "WorkflowPolicy"
        errors += bool(e.errors)
    if errors:
        print(f"{red}✖ {errors} of {len(entries)} found with errors{reset}", file=sys.stderr)
    else:
        print(f"{green}✔ {checked} object{'s' if checked != 1 else ''} valid{reset}", file=sys.stderr)
