"""Small helpers every check uses: type-safe reads of plain JSON, and Argo's name rules.

Validation reads the document as the user wrote it (plain dicts and lists), so every path is the real
document path. A value of the wrong type is the parser's problem (strict decoding reports it); the
readers here return None for it, so a check never raises on bad input and simply skips what it cannot read.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.types.base import go_number_text

# Template, step and task names (validate.go workflowFieldNameFmt; CRD pattern), at most 128 characters.
FIELD_NAME_RE = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
FIELD_NAME_MAX = 128
FIELD_NAME_MSG = (
    "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric "
    "character (e.g. My-name1-2, 123-NAME)"
)
# Parameter and artifact names (validate.go paramOrArtifactNameRegex).
PARAM_NAME_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
PARAM_NAME_MSG = (
    "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1"
)
# A value that is one simple tag, e.g. `{{inputs.parameters.x}}` (validate.go paramRegex).
PARAM_TAG_RE = re.compile(r"\{\{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*\}\}")
# Memoization keys.
CACHE_KEY_RE = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
# Prometheus metric names and label keys (no ':').
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Kubernetes label values (apimachinery IsValidLabelValue).
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def as_map(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def get_map(obj: Any, key: str) -> dict[str, Any] | None:
    return obj.get(key) if isinstance(obj, dict) and isinstance(obj.get(key), dict) else None


def get_list(obj: Any, key: str) -> list[Any] | None:
    return obj.get(key) if isinstance(obj, dict) and isinstance(obj.get(key), list) else None


def get_str(obj: Any, key: str) -> str:
    """The string at `key`, or "" when absent or not a string (Go's zero value)."""
    if isinstance(obj, dict):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    return ""


def has(obj: Any, key: str) -> bool:
    """`key` is present and not null (Go's non-nil pointer)."""
    return isinstance(obj, dict) and obj.get(key) is not None


def scalar_text(value: Any) -> str | None:
    """A parameter value as Argo's AnyString reads it: strings, numbers and booleans; else None.
    Numbers are rendered by the parser's own AnyString rendering (go_number_text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_number_text(value)
    return None


def named(items: list[Any] | None) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) for every object in a list of named things (templates, parameters, tasks...)."""
    if not items:
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def field_name_errors(name: str) -> list[str]:
    """Why `name` is not a valid template/step/task name (validate.go isValidWorkflowFieldName)."""
    errs = []
    if len(name) > FIELD_NAME_MAX:
        errs.append(f"must be no more than {FIELD_NAME_MAX} characters")
    if not FIELD_NAME_RE.match(name):
        errs.append(FIELD_NAME_MSG)
    return errs


def enum_message(value: str, allowed: tuple[str, ...]) -> str:
    """The API server's words for a value outside an enum, naming the value and the allowed ones."""
    listed = ", ".join(f'"{a}"' for a in allowed if a)
    return f'unsupported value: "{value}": supported values: {listed}'


def is_param_tag(text: str) -> bool:
    return bool(PARAM_TAG_RE.search(text))


def has_tag(text: str) -> bool:
    return "{{" in text


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def key_child(path: str, key: str) -> str:
    """The path of a map entry, as the parser writes it: `metadata.labels[app]`, `spec.hooks[exit]`."""
    return f"{path}[{key}]"


def walk_strings(value: Any, path: str) -> list[tuple[str, str]]:
    """Every string in a JSON value (map keys included) that holds `{{`, with the path of the value
    that holds it. Paths are only built for what is found: most strings of a workflow hold no tag."""
    found: list[tuple[str, str]] = []
    kind = type(value)
    if kind is dict or kind is list:
        _visit(value, path, [], found)
    elif isinstance(value, str) and "{{" in value:
        found.append((path, value))
    return found


def _visit(
    node: dict[Any, Any] | list[Any], path: str, keys: list[Any], found: list[tuple[str, str]]
) -> None:
    # `keys` is the way down from `path` to `node`; scalars are tested in place (no call, no push).
    if type(node) is dict:
        for key, item in node.items():
            if type(key) is not str:
                continue
            if "{{" in key:
                found.append((_join(path, [*keys, key]), key))
            kind = type(item)
            if kind is str:
                if "{{" in item:
                    found.append((_join(path, [*keys, key]), item))
            elif kind is dict or kind is list:
                keys.append(key)
                _visit(item, path, keys, found)
                keys.pop()
    else:
        for i, item in enumerate(node):
            kind = type(item)
            if kind is str:
                if "{{" in item:
                    found.append((_join(path, [*keys, i]), item))
            elif kind is dict or kind is list:
                keys.append(i)
                _visit(item, path, keys, found)
                keys.pop()


# Fields whose value is a map: their keys are entries (`nodeSelector[disk]`), not fields (`.disk`).
MAP_FIELDS = frozenset(
    {
        "labels",
        "annotations",
        "nodeSelector",
        "hooks",
        "labelsFrom",
        "matchLabels",
        "limits",
        "requests",
        "data",
        "stringData",
        "storedTemplates",
    }
)


def _is_ident(key: str) -> bool:
    """`_IDENT.match(key)` without the regex engine: an ASCII identifier (`$` also matches before a final
    newline, so only such a key needs the regex)."""
    if key.isascii() and key.isidentifier():
        return True
    return key.endswith("\n") and _IDENT.match(key) is not None


def _join(path: str, keys: list[Any]) -> str:
    prev: Any = path.rsplit(".", 1)[-1] if path else None
    in_items = False
    for key in keys:
        if type(key) is int or prev in MAP_FIELDS or in_items or not _is_ident(key):
            path = f"{path}[{key}]"
        else:
            # Struct fields are identifiers (`.args`); other keys are map entries (`[app.kubernetes.io/x]`).
            path = f"{path}.{key}" if path else key
        in_items = prev == "withItems" and type(key) is int
        prev = key
    return path
