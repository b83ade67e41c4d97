"""Output of the cluster verbs (`-o name|json|yaml|wide`), tables, ages and durations, as argo prints them.

Pure functions over API objects (dicts) and an explicit `now` (seconds since the epoch), so they are
unit-tested without a cluster (tests/unit/test_cli_output.py).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import yaml

DONE = ("Succeeded", "Failed", "Error")
_AGE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def stamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def compressed(wf: dict[str, Any]) -> bool:
    status = wf.get("status") or {}
    return bool(status.get("compressedNodes")) and not status.get("nodes")


def with_nodes(wf: dict[str, Any]) -> dict[str, Any]:
    """`wf` with `status.nodes` readable: decoded from `status.compressedNodes` (gzip+base64, as the
    controller writes a status near the size limit; workflow/types/compress.py) when that is how they are
    held. Unreadable compressed nodes are left as they are (the tree is then empty, never a traceback)."""
    if not compressed(wf):
        return wf
    from workflow.types.compress import decode_compressed_nodes_json  # noqa: PLC0415

    nodes, problem = decode_compressed_nodes_json(wf["status"]["compressedNodes"])
    if problem is not None or not isinstance(nodes, dict):
        return wf
    status = {k: v for k, v in wf["status"].items() if k != "compressedNodes"}
    return {**wf, "status": {**status, "nodes": nodes}}


def parse_age(text: str) -> float:
    """'30s', '10m', '2h', '7d' -> seconds; ValueError otherwise (argo's --older/--since spellings)."""
    total, rest = 0, text.strip()
    if not rest:
        raise ValueError("empty duration")
    for part in re.findall(r"\d+[smhd]|.+?", rest):
        m = _AGE.match(part)
        if not m:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 10m, 2h, 7d, 1h30m)")
        total += int(m.group(1)) * _UNITS[m.group(2)]
    return float(total)


def human(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def phase(obj: dict[str, Any]) -> str:
    return (obj.get("status") or {}).get("phase") or "Pending"


def shown_phase(wf: dict[str, Any]) -> str:
    """argo's STATUS column: Running (Suspended), Running (Terminating) etc."""
    p = phase(wf)
    spec = wf.get("spec") or {}
    if p in ("Pending", "Running"):
        if spec.get("shutdown"):
            return f"{p} ({'Terminating' if spec['shutdown'] == 'Terminate' else 'Stopping'})"
        if spec.get("suspend"):
            return f"{p} (Suspended)"
    return p


def age(obj: dict[str, Any], now: float) -> str:
    created = stamp((obj.get("metadata") or {}).get("creationTimestamp"))
    return human(now - created) if created is not None else ""


def duration(wf: dict[str, Any], now: float) -> str:
    status = wf.get("status") or {}
    start = stamp(status.get("startedAt"))
    if start is None:
        return ""
    end = stamp(status.get("finishedAt")) or now
    return human(end - start)


def workflow_rows(workflows: list[dict[str, Any]], now: float, wide: bool = False) -> list[str]:
    header = ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"]
    if wide:
        header += ["P/R/C", "PARAMETERS"]
    rows = [header]
    for wf in workflows:
        status = wf.get("status") or {}
        row = [
            wf["metadata"]["name"],
            shown_phase(wf),
            age(wf, now),
            duration(wf, now),
            str((wf.get("spec") or {}).get("priority") or 0),
            status.get("message") or "",
        ]
        if wide:
            nodes = (status.get("nodes") or {}).values()
            pods = [n for n in nodes if n.get("type") == "Pod"]
            pending = sum(1 for n in pods if n.get("phase") == "Pending")
            running = sum(1 for n in pods if n.get("phase") == "Running")
            done = sum(1 for n in pods if n.get("phase") in DONE)
            params = ",".join(
                f"{p.get('name')}={p.get('value', '')}"
                for p in ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or ()
            )
            row += [f"{pending}/{running}/{done}", params]
        rows.append(row)
    return table(rows)


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """As kubectl shows objects: `metadata.managedFields` is bookkeeping nobody reads."""
    meta = obj.get("metadata") or {}
    if "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def render(objs: list[dict[str, Any]], output: str | None, *, as_list: bool) -> str:
    """`-o json|yaml|name` of one object or of several (a `List` for json/yaml, as kubectl does)."""
    if output == "name":
        return "".join(f"{o['metadata']['name']}\n" for o in objs)
    objs = [without_managed_fields(o) for o in objs]
    doc: Any = objs[0] if not as_list else {"apiVersion": "v1", "kind": "List", "items": objs}
    if output == "json":
        return json.dumps(doc, indent=2) + "\n"
    if output == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    raise ValueError(f"unknown output {output!r}")
