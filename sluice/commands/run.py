"""`sluice run FILE`: run a workflow on this machine, no cluster needed.

    sluice run FILE [-p NAME=VALUE]... [--entrypoint T] [--name N] [-o json|yaml] [--parallelism N]
               [--templates PATH]... [--artifact-dir DIR] [--no-logs] [--quiet]

Exit code 0 when the workflow Succeeded, 1 otherwise, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:  # the runner is imported only when a run starts (the CLI starts fast)
    from sluice.runner.load import Loaded
    from sluice.runner.state import Claim


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a workflow on this machine (local processes, no cluster)",
        description="Run a Workflow with local processes: same engine, same status as on a cluster.",
    )
    p.add_argument("file", metavar="FILE", type=Path, help="a YAML/JSON file whose first Workflow is run")
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a global parameter (repeatable)",
    )
    p.add_argument("--entrypoint", help="the template to start from")
    p.add_argument("--name", help="the workflow's name (instead of metadata.name / generateName)")
    p.add_argument("-o", "--output", choices=["json", "yaml"], help="print the final Workflow object")
    p.add_argument("--parallelism", type=int, help="at most N steps at a time on this machine")
    p.add_argument(
        "--templates",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="files or directories with WorkflowTemplates, ClusterWorkflowTemplates, ConfigMaps",
    )
    p.add_argument(
        "--artifact-dir", type=Path, help="where artifacts are kept (default: in the run's directory)"
    )
    p.add_argument("--no-logs", action="store_true", help="do not show the steps' output")
    p.add_argument("--quiet", action="store_true", help="show nothing while running")
    p.set_defaults(run=run)


def _parameters(values: list[str]) -> list[tuple[str, str]] | None:
    out = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            return None
        out.append((name, text))
    return out


def run(args: argparse.Namespace) -> int:
    from sluice.runner import state  # noqa: PLC0415
    from sluice.runner.load import LoadError, load, prepare  # noqa: PLC0415
    from workflow.check import check_object  # noqa: PLC0415
    from workflow.positions import locate  # noqa: PLC0415

    params = _parameters(args.parameter)
    if params is None:
        print("sluice run: -p expects NAME=VALUE", file=sys.stderr)
        return EXIT_USAGE
    if args.parallelism is not None and args.parallelism < 1:
        print("sluice run: --parallelism must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        loaded = load(args.file, args.templates)
        if args.name and isinstance(loaded.workflow.setdefault("metadata", {}), dict):
            loaded.workflow["metadata"]["name"] = args.name
        workflow = prepare(loaded.workflow, params, args.entrypoint)
    except LoadError as exc:
        print(f"sluice run: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if loaded.note and not args.quiet:
        print(f"sluice run: {loaded.note}", file=sys.stderr)
    report = check_object(workflow, loaded.source)
    if report.errors:
        print(f"sluice run: {args.file}: the workflow is not valid:", file=sys.stderr)
        for problem in report.errors:
            at = locate(loaded.positions, problem.field)
            line = f"  {args.file}:{at[0]}:{at[1]}: {problem}" if at else f"  {problem}"
            print(line + _hint(problem.field, problem.message), file=sys.stderr)
        return EXIT_FAILED
    name = workflow["metadata"]["name"]
    bad_name = state.name_problem(name) if isinstance(name, str) else "metadata.name must be a string"
    if bad_name:
        print(f"sluice run: {args.file}: {bad_name}", file=sys.stderr)
        return EXIT_FAILED
    try:
        claimed = state.claim(name)
    except state.NameInUse as exc:
        print(f"sluice run: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # SLUICE_HOME unwritable, not a folder, no locks on its filesystem
        print(f"sluice run: cannot set up the run under {state.home()}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        return _run_claimed(args, workflow, loaded, claimed)
    finally:
        claimed.release()


def _run_claimed(args: argparse.Namespace, workflow: dict[str, Any], loaded: Loaded, claimed: Claim) -> int:
    """Run the workflow in the run directory whose name this process holds."""
    from sluice.runner.display import Display  # noqa: PLC0415
    from sluice.runner.driver import Runner, RunOptions  # noqa: PLC0415

    name, run_dir, replaced = claimed.name, claimed.directory, claimed.replaced
    if replaced and not args.quiet:
        print(
            f'sluice run: starting clean: the files of the previous run "{name}" were removed',
            file=sys.stderr,
        )
    from sluice.runner import cowroot  # noqa: PLC0415

    view = cowroot.available(str(run_dir.parent))
    if view and not args.quiet:
        print(
            "sluice run: steps share this machine's filesystem (their declared paths are moved, "
            f"a path built at run time is not): no per-step view here: {view}",
            file=sys.stderr,
        )
    options = RunOptions(
        run_dir=run_dir,
        artifact_dir=args.artifact_dir or run_dir / "artifacts",
        parallelism=args.parallelism,
        templates=loaded.source,
        config_maps=loaded.config_maps,
        checked=True,  # above, with the same templates and no workflowDefaults (the runner has none)
    )
    # Steps' output on stdout, unless stdout is for the final object (-o json|yaml): then stderr.
    display = Display(
        logs=not args.no_logs, quiet=args.quiet, logs_out=sys.stderr if args.output else sys.stdout
    )
    final = Runner(workflow, options, display).run()
    if args.output == "json":
        print(json.dumps(final, indent=2))
    elif args.output == "yaml":
        import yaml  # noqa: PLC0415

        print(yaml.safe_dump(final, sort_keys=False), end="")
    return EXIT_OK if (final.get("status") or {}).get("phase") == "Succeeded" else EXIT_FAILED


_MISSING_PARAMETER = re.compile(r'^parameter "([^"]+)"(: value or valueFrom is required| of .* has no value)')


def _hint(field: str, message: str) -> str:
    """What to type to fix the commonest validation errors of a local run (issue 14's "hints")."""
    missing = _MISSING_PARAMETER.match(message)
    if missing and field.startswith("spec.arguments.parameters"):
        return f" (give it with -p {missing.group(1)}=VALUE)"
    if field == "spec.entrypoint" and message == "spec.entrypoint is required":
        return " (choose a template with --entrypoint NAME)"
    return ""
