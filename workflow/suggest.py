""" "Did you mean" for a misspelt name: the closest known name, or the known names when few and none is
close. Used by the parser (unknown fields, `workflow/parse/walk.py`) and the resolver (template names,
`workflow/resolve/__init__.py`). Pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_LISTED = 12  # past this, a list of names is noise


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` most likely misspells (`entrypont` -> `entrypoint`, `sya` -> `say`)."""
    names = [k for k in known if isinstance(k, str)]
    lowered = {k.lower(): k for k in names}
    if name.lower() in lowered:  # a case slip: `templateref` -> `templateRef`
        return lowered[name.lower()]
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, known: Iterable[str], quote: str = '"', list_all: bool = False) -> str:
    """` (did you mean "x"?)`, or with `list_all` and nothing close, ` (available: a, b)` ("" when no hint).
    In parentheses: the webhook joins problems with "; "."""
    names = sorted({k for k in known if isinstance(k, str) and k})
    match = closest(name, names)
    if match is not None and match != name:
        return f" (did you mean {quote}{match}{quote}?)"
    if list_all and names and len(names) <= MAX_LISTED:
        return " (available: " + ", ".join(names) + ")"
    return ""
