"""The building blocks every Argo type shares: the strict Struct base, AnyString, int-or-string.

Every type is a msgspec Struct with Argo's JSON names (camelCase, with explicit names where Go's JSON tag
is not plain camelCase, e.g. `boundaryID`). Structs are strict (an unknown field is an error) and omit
absent fields when encoded, so `to_dict(parse(doc)) == doc` for what Argo itself would accept.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Annotated, Any

import msgspec


class _KwOnlyMeta(msgspec.StructMeta):
    # msgspec's kw_only applies to the fields of the class that sets it; every subclass gets it here so
    # a required field (Artifact.name) may follow optional ones inherited from a base (ArtifactLocation).
    # mypy does not see a metaclass's default: a class whose required field follows an optional one
    # also says `kw_only=True` itself (Artifact, NodeStatus, HTTP).
    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _KwOnlyMeta:
        kwargs.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, namespace, **kwargs)


class ArgoStruct(
    msgspec.Struct,
    metaclass=_KwOnlyMeta,
    rename="camel",
    forbid_unknown_fields=True,
    omit_defaults=True,
    gc=False,
):
    """Base of every Argo and Kubernetes type: optional fields default to None and are omitted when absent.

    `gc=False`: the cycle collector does not track these objects. A 10,000-node status is ~100,000 of
    them and tracking them tripled parse time. They form trees; code must not build reference cycles
    through them (a cycle of Structs would never be freed).
    """


ANY_STRING = "AnyString"

AnyString = Annotated[str, msgspec.Meta(extra={"argo": ANY_STRING})]
"""A string that Argo also accepts as a JSON number or boolean (parameter value/default/enum/description).

Stored as a plain `str`, rendered the way Go's encoding/json prints the value (true → "true", 3 → "3",
1.5 → "1.5"), which is what Argo stores. msgspec decodes strings natively; a document that gives a number
or boolean takes the walker's path (parse/walk.py), which normalises it and decodes again.
"""


def is_any_string(meta_extra: dict[str, Any] | None) -> bool:
    return meta_extra is not None and meta_extra.get("argo") == ANY_STRING


IntOrString = int | str
"""Kubernetes' intstr.IntOrString / Argo's Int64OrString: kept as given (3 stays 3, "3" stays "3")."""

Quantity = int | float | str
"""A Kubernetes resource.Quantity: YAML may give `cpu: 1` (a number) or `memory: 1Gi` (a string)."""

Amount = int | float
"""Argo's Amount (histogram buckets): a JSON number."""

JSON = Any
"""Free-form JSON (withItems entries, plugin bodies, preserved-unknown objects)."""


def field(name: str, default: Any = None) -> Any:
    """A field whose JSON name is not the camelCase of its Python name (`boundaryID`, `from`, `podIP`)."""
    return msgspec.field(name=name, default=default)


def go_number_text(value: int | float) -> str:
    """A JSON number as Argo's AnyString keeps it: Go's `strconv.FormatFloat(v, 'f', -1, 64)`.

    Shortest round-trip digits in fixed notation (1e-07 is "0.0000001", 3.0 is "3"); integers beyond
    float64's exact range go through float64 as Go's JSON decoder does.
    """
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return repr(value)
    return _fixed_shortest(value)


def go_json_number_text(value: int | float) -> str:
    """A JSON number as Go's encoding/json writes it: fixed notation, except exponent notation below
    1e-6 and from 1e21 on, with a one-digit negative exponent written `e-7` (not `e-07`)."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, exponent = repr(value).split("e")  # Python's repr is in exponent form in this range
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        if sign == "-" and len(digits) == 1:
            return f"{mantissa}e-{digits}"
        return f"{mantissa}e{sign}{digits.zfill(2)}"
    return _fixed_shortest(value)


def _fixed_shortest(value: float) -> str:
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def yaml_time_text(value: Any) -> str | None:
    """The text of a timestamp that a YAML loader resolved (PyYAML turns `2024-01-01T00:00:00Z` into a
    datetime; Kubernetes' YAML-to-JSON keeps it a string), or None for any other value."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return None


def any_string_text(value: Any) -> str | None:
    """The AnyString rendering of a raw JSON value, or None when the value is not a scalar Argo accepts."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date):
        return yaml_time_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_number_text(value)
    return None


class Plugin(dict[str, Any]):
    """A plugin template or body: a free-form object with exactly one key, the plugin's name."""


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec's hook for the custom types (Plugin); a ValueError carries the message.

    (A ValueError lets msgspec append the path of the value; the error walker reuses the message.)
    """
    if kind is Plugin:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {describe(value)}")
        if len(value) != 1:
            raise ValueError(f"expected exactly one key, got {len(value)}")
        return Plugin(value)
    raise NotImplementedError(f"no decoder for {kind!r}")


def enc_hook(value: Any) -> Any:
    if isinstance(value, Plugin):
        return dict(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def describe(value: Any) -> str:
    """A value as an error message shows it: `"abc"`, `3`, `true`, `an object`, `a list`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return '"' + text.replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return go_number_text(value)
    return type(value).__name__
