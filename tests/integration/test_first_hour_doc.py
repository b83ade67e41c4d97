"""docs/first-hour.md shows real output: its mistakes, run again, still print what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "first-hour.md").read_text()


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC, re.S)


def session(block: str) -> list[tuple[str, list[str]]]:
    """(command, output lines) for each `$ ` line of a console block."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def sluice(tmp_path: Path, command: str) -> list[str]:
    env = dict(os.environ, SLUICE_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "sluice", *command.split()[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # The page shows a terminal: stdout's lines, then stderr's (each command's output is short).
    return result.stdout.splitlines() + result.stderr.splitlines()


def test_the_mistakes_print_what_the_page_shows(tmp_path):
    (tmp_path / "greet.yaml").write_text(blocks("yaml")[0])
    lint, run, tab = blocks("console")
    ((command, expected),) = session(lint)
    assert sluice(tmp_path, command) == expected
    (tmp_path / "greet.yaml").write_text(
        blocks("yaml")[0].replace("entrypont", "entrypoint").replace("sya", "say")
    )
    (bad, expected), (good, shown) = session(run)
    assert sluice(tmp_path, bad) == expected
    got = sluice(tmp_path, good)
    stamp = re.compile(r"^\d\d:\d\d:\d\d ")
    assert [line for line in got if not stamp.match(line)] == [
        line for line in shown if not stamp.match(line)
    ]
    ((command, expected),) = session(tab)
    (tmp_path / "tab.yaml").write_text("spec:\n  entrypoint: main\n\ttemplates: []\n")
    assert sluice(tmp_path, command.split(" && ")[1]) == expected
