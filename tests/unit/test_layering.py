"""The layering rule of DESIGN.md, checked on the source so that it cannot rot.

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
    "aiohttp", "kubernetes_asyncio", "kubernetes", "subprocess", "socket", "asyncio", "http",
    "urllib", "requests", "ssl", "time", "threading", "multiprocessing", "signal", "shutil",
    "tempfile", "select", "selectors",
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
