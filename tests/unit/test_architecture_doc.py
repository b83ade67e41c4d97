"""docs/architecture.md cites files of the repository: every one of them must exist, so a module moved
without updating the page fails here."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
TOP = (
    "workflow",
    "webhook",
    "controller",
    "executor-sidecar",
    "kube",
    "sluice",
    "tests",
    "benchmarks",
    "scripts",
    "cluster",
    "pyproject.toml",
    "Makefile",
)


def cited_paths() -> list[str]:
    """Backticked words that are a top-level folder or file, or a path under one (not `workflowTemplateRef`)."""
    found = []
    for text in re.findall(r"`([^`\s]+)`", DOC.read_text()):
        path = text.rstrip("/")
        if path in TOP or path.startswith(tuple(f"{t}/" for t in TOP)):
            found.append(path)
    return found


def test_the_page_cites_files():
    assert len(cited_paths()) > 40


def test_every_cited_path_exists():
    missing = [p for p in cited_paths() if not (REPO / p).exists()]
    assert not missing, f"docs/architecture.md cites paths that do not exist: {missing}"


def test_the_core_cites_only_files_of_the_repository():
    """The repository explains itself: a `.md` file any of its files cites (code, scripts, manifests, docs)
    is one of the repository's (docs/architecture.md, benchmarks/RESULTS.md), not a note kept elsewhere."""
    ours = {
        p.name for p in REPO.rglob("*.md") if not {".venv", ".git", "node_modules"} & set(p.parts)
    }  # a file may also name one of them by its name alone (`CONVENTIONS.md` beside manifests/)
    outside = []
    for path in _sources():
        for cited in re.findall(r"[\w./-]*\w\.md\b", path.read_text()):
            if cited.startswith("//"):  # a URL (https://...), not a file
                continue
            if not (REPO / cited).is_file() and cited.rsplit("/", 1)[-1] not in ours:
                outside.append(f"{path.relative_to(REPO)} cites {cited}")
    assert not outside, "\n".join(outside)


SKIP = {".venv", ".git", "node_modules", ".cluster", "build", "dist"}
# docs/architecture.md names the design note it implements once, on purpose (its first line).
ALLOWED = {"docs/architecture.md"}


def _sources() -> list[Path]:
    """Every text file of the repository a reader meets: code, scripts, manifests, docs."""
    kinds = {".py", ".sh", ".yaml", ".yml", ".md", ".toml", ".js", ".go"}
    return [
        p
        for p in sorted(REPO.rglob("*"))
        if p.suffix in kinds
        and p.is_file()
        and not SKIP & set(p.relative_to(REPO).parts)
        and str(p.relative_to(REPO)) not in ALLOWED
    ]
