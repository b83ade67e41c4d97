"""kubectl's equality-based label selectors, for what no API server filters: local runs
(`sluice list|delete --local -l`, sluice/localruns.py) and the web UI's local source (sluice/ui/sources.py).
"""

from __future__ import annotations


def label_match(labels: dict[str, str], selector: str | None) -> bool:
    """kubectl's equality-based selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-joined), for local
    runs (a cluster applies them itself)."""
    for term in (t.strip() for t in (selector or "").split(",")):
        if not term:
            continue
        if "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def label_problem(selector: str | None) -> str | None:
    for term in (t.strip() for t in (selector or "").split(",")):
        body = term.lstrip("!").replace("!=", "=").replace("==", "=")
        if term and (not body.split("=", 1)[0].strip() or body.count("=") > 1):
            return f"cannot read the term {term!r} (KEY=VALUE, KEY!=VALUE, KEY or !KEY)"
    return None
