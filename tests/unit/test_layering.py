"""The layering rule (docs/architecture.md, "Programs around one pure core"), checked on the source so that it cannot rot.

workflow/ is pure: the standard library's I/O, process, network and clock modules are off limits, and so
are the programs built on top of it. Each program may import the core, never another program.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PACKAGES = {
    "workflow": REPO / "workflow",
    "kube": REPO / "kube",
    "webhook": REPO / "webhook",
    "controller": REPO / "controller",
    "sluice_executor": REPO / "executor-sidecar" / "sluice_executor",
    "sluice": REPO / "sluice",
}

# What each layer must not import (top-level module names).
PROGRAMS = {"webhook", "controller", "sluice_executor", "sluice"}
IMPURE = {
    "aiohttp",
    "kubernetes_asyncio",
    "kubernetes",
    "subprocess",
    "socket",
    "asyncio",
    "http",
    "urllib",
    "requests",
    "ssl",
    "time",
    "threading",
    "multiprocessing",
    "signal",
    "shutil",
    "tempfile",
    "select",
    "selectors",
}
FORBIDDEN = {
    "workflow": PROGRAMS | IMPURE | {"kube"},
    "webhook": {"controller", "sluice_executor", "sluice"},
    "controller": {"webhook", "sluice_executor", "sluice"},
    "sluice_executor": {"webhook", "controller", "sluice", "aiohttp"},
    "sluice": set(),
    # Shared I/O (informers, API client, logs, health): what both programs need, never a program.
    "kube": PROGRAMS,
}
# Clock reads are forbidden in the core even through datetime (contract 7: time is injected).
CLOCK_CALLS = {"now", "utcnow", "today"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def _files(package: str):
    return sorted(PACKAGES[package].rglob("*.py"))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_layer_imports_only_what_it_may(package):
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _files(package)
        for line, module in _imports(path)
        if module in FORBIDDEN[package]
    ]
    assert not bad, "layering violated:\n" + "\n".join(bad)


def test_core_never_reads_the_clock():
    bad = []
    for path in _files("workflow"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
                and isinstance(node.func.value, (ast.Name, ast.Attribute))
            ):
                bad.append(f"{path.relative_to(REPO)}:{node.lineno} calls .{node.func.attr}()")
    assert not bad, "the core must take time from its caller:\n" + "\n".join(bad)


def test_the_check_sees_a_violation(tmp_path):
    # The rule itself must be able to fail: an impure import is found.
    sample = tmp_path / "x.py"
    sample.write_text("import subprocess\nfrom aiohttp import web\n")
    assert {m for _, m in _imports(sample)} & FORBIDDEN["workflow"] == {"subprocess", "aiohttp"}


# --- inside workflow/: the pipeline's direction (issue 9) ------------------------------------------------

# (package or module, what it must not import): full dotted prefixes.
INNER_RULES = [
    # expr is the expression language; {{ }} templating is built on it, never the other way round.
    ("workflow.expr", ("workflow.templating", "workflow.engine", "workflow.validate", "workflow.check")),
    # The engine reaches validation only through the one entry point, workflow.check.
    ("workflow.engine", ("workflow.validate",)),
    # The shared definitions of the engine are a leaf.
    ("workflow.engine.defs", ("workflow.engine",)),
    # The node store writes nodes and nothing else: no actions, no events, no memoization (they are made
    # from its `transitions` by the step).
    (
        "workflow.engine.nodes",
        ("workflow.engine.model", "workflow.engine.state", "workflow.engine.events", "workflow.engine.memo"),
    ),
    # Parsing and normalising know nothing of what reads their result.
    ("workflow.parse", ("workflow.engine", "workflow.validate", "workflow.check", "workflow.resolve")),
    # Validation does not run the engine.
    ("workflow.validate", ("workflow.engine",)),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _full_imports(path: Path):
    """(line, dotted module, inside a function) for every absolute import of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    nested.add(id(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, id(node) in nested
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, id(node) in nested
            for alias in node.names:  # `from workflow import templating` imports workflow.templating
                yield node.lineno, f"{node.module}.{alias.name}", id(node) in nested


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize(("owner", "banned"), INNER_RULES, ids=[rule[0] for rule in INNER_RULES])
def test_inner_layers_keep_their_direction(owner, banned):
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _files("workflow")
        if _within(_module_name(path), owner)
        for line, module, _ in _full_imports(path)
        if any(_within(module, b) for b in banned)
    ]
    assert not bad, "layering inside workflow/ violated:\n" + "\n".join(bad)


def test_the_engine_imports_nothing_lazily():
    """Imports inside functions hide cycles between the engine's modules; it has none to hide."""
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module} inside a function"
        for path in sorted((REPO / "workflow" / "engine").rglob("*.py"))
        for line, module, nested in _full_imports(path)
        if nested
    ]
    assert not bad, "\n".join(bad)


def test_the_inner_checks_see_a_violation(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from workflow import templating\n\ndef f():\n    import workflow.validate.memo\n")
    found = list(_full_imports(sample))
    assert (1, "workflow.templating", False) in found
    assert (4, "workflow.validate.memo", True) in found


# --- the web UI (issue 16): a part of the `sluice` program that nothing else in it depends on -----------

UI = REPO / "sluice" / "ui"
# The UI reads through the CLI's readers and the shared kube/ layer (and the executor's artifact drivers,
# as `sluice run` does), never through another program.
UI_FORBIDDEN = ("controller", "webhook")
# Its graph layout is pure like the core (tests/unit/test_ui_layout.py runs it without a server).
UI_PURE = UI / "layout.py"


def test_the_ui_imports_no_other_program():
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sorted(UI.rglob("*.py"))
        for line, module, _ in _full_imports(path)
        if any(_within(module, b) for b in UI_FORBIDDEN)
    ]
    assert not bad, "\n".join(bad)


def test_only_the_ui_verb_imports_the_ui():
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _files("sluice")
        if UI not in path.parents and path != REPO / "sluice" / "commands" / "ui.py"
        for line, module, _ in _full_imports(path)
        if _within(module, "sluice.ui")
    ]
    assert not bad, "the CLI must not depend on its web UI:\n" + "\n".join(bad)


def test_the_ui_layout_is_pure():
    bad = [
        f"layout.py:{line} imports {module}"
        for line, module in _imports(UI_PURE)
        if module in IMPURE | {"kube"}
    ]
    assert not bad and UI_PURE.is_file(), "\n".join(bad)
