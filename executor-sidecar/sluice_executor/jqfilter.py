"""Resource templates' `jqFilter` output parameters, bounded in time and memory.

jq runs in libjq (the `jq` binding, a C extension): a filter that loops (`def f: f; f`, `repeat(1)`)
never returns, and a thread cannot be stopped inside C. So each filter runs in a child Python process
(jq_child.py) with a deadline (SECONDS, then the child is killed: "jqFilter ran past N s") and an
address-space limit (MEMORY), and the resource pod always finishes. Results are written as Argo writes
gojq's: every result on its own line, a string as it is, anything else as compact JSON with sorted keys
(Go's encoding), the whole trimmed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sluice_executor.conditions import ConditionError

SECONDS = 30.0  # a filter over one object (the manifest is capped at 3 MiB) takes milliseconds
MEMORY = 256 * 1024 * 1024  # the child's address space; the executor container's limit is 512 MiB
CHILD = Path(__file__).with_name("jq_child.py")

# Go's encoding/json escapes these inside strings; Argo's jqFilter output is written by it.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def jq_filter(document: Any, program: str) -> str:
    """An output parameter's `jqFilter` over the object, as Argo writes it."""
    request = json.dumps({"program": program, "document": document})
    try:
        done = subprocess.run(
            # -P: not the script's folder first on sys.path (it holds resource.py, which would shadow the
            # standard module); -s: no user site. Not -I: the image finds its packages through PYTHONPATH.
            [sys.executable, "-P", "-s", str(CHILD), str(MEMORY)],
            input=request,
            capture_output=True,
            text=True,
            timeout=SECONDS,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise ConditionError(f"jqFilter {program!r}: ran past {SECONDS:g} s (does it loop?)") from None
    try:
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ConditionError(f"jqFilter {program!r}: jq failed (exit {done.returncode}; out of memory?)")
    if "error" in answer:
        raise ConditionError(f"jqFilter {program!r}: {answer['error']}")
    lines = []
    for value in answer.get("results") or ():
        if isinstance(value, str):
            lines.append(value)
        else:
            text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
            lines.append("".join(_GO_ESCAPES.get(ch, ch) for ch in text))
    return "\n".join(lines).strip()
