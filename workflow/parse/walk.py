"""Every shape problem of a raw document, with its field path, read off the types themselves.

msgspec stops at the first problem; when it does, this walker goes over the raw value guided by
`msgspec.inspect.type_info` of the target type and collects them all: unknown fields, wrong types,
missing required fields, and the custom types' own checks (AnyString, Plugin). It never raises on input.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from msgspec import inspect as mi

from workflow.errors import Problems, child, map_child
from workflow.suggest import did_you_mean
from workflow.types.base import any_string_text, dec_hook, describe, is_any_string, yaml_time_text

_info_cache: dict[type, mi.Type] = {}


def type_info(cls: type) -> mi.Type:
    info = _info_cache.get(cls)
    if info is None:
        info = _info_cache[cls] = mi.type_info(cls)
    return info


def collect(value: Any, cls: type, path: str, problems: Problems) -> Any:
    """Append to `problems` every way in which `value` does not fit `cls`.

    Returns the value with AnyString numbers and booleans rendered as strings (a copy only where
    something changed), ready for a second, successful decode when no errors were found.
    """
    return _walk(value, type_info(cls), path, problems)


def expected(t: mi.Type) -> str:
    """How an error message names what a type expects: "an integer", "an integer or a string", ..."""
    if isinstance(t, mi.UnionType):
        names: list[str] = []
        for member in t.types:
            if isinstance(member, mi.NoneType):
                continue
            name = expected(member)
            if name not in names:
                names.append(name)
        return " or ".join(names) if names else "null"
    if isinstance(t, mi.IntType):
        return "an integer"
    if isinstance(t, mi.FloatType):
        return "a number"
    if isinstance(t, mi.StrType):
        return "a string"
    if isinstance(t, mi.BoolType):
        return "a boolean"
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType, mi.TupleType)):
        return "a list"
    if isinstance(t, (mi.StructType, mi.DictType, mi.TypedDictType, mi.DataclassType)):
        return "an object"
    if isinstance(t, mi.CustomType):
        return _CUSTOM_NAMES.get(t.cls.__name__, "a value")
    if isinstance(t, mi.Metadata):
        return "a string, number or boolean" if is_any_string(t.extra) else expected(t.type)
    if isinstance(t, mi.NoneType):
        return "null"
    return "a value"


_CUSTOM_NAMES = {"Plugin": "an object"}


def _category(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime.date):
        return "time"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    return "other"


def _accepts(t: mi.Type, category: str) -> bool:
    """Whether a union member is the one a value of this JSON category is meant for."""
    if isinstance(t, mi.AnyType):
        return True
    if isinstance(t, mi.CustomType):
        # Custom types check the value themselves (dec_hook).
        return category != "null"
    if isinstance(t, mi.Metadata):
        if is_any_string(t.extra):
            return category in ("str", "time", "int", "float", "bool")
        return _accepts(t.type, category)
    return category in _CATEGORIES.get(type(t), ())


_CATEGORIES: dict[type, tuple[str, ...]] = {
    mi.NoneType: ("null",),
    mi.IntType: ("int",),
    mi.FloatType: ("int", "float"),
    mi.StrType: ("str", "time"),
    mi.BoolType: ("bool",),
    mi.ListType: ("list",),
    mi.StructType: ("object",),
    mi.DictType: ("object",),
}


def _walk(value: Any, t: mi.Type, path: str, problems: Problems) -> Any:
    if isinstance(t, mi.AnyType):
        return value
    if isinstance(t, mi.UnionType):
        category = _category(value)
        for member in t.types:
            if _accepts(member, category):
                return _walk(value, member, path, problems)
        problems.error(path, f"expected {expected(t)}, got {describe(value)}")
        return value
    if isinstance(t, mi.Metadata):
        if is_any_string(t.extra):
            text = any_string_text(value)
            if text is None:
                problems.error(path, f"expected a string, number or boolean, got {describe(value)}")
                return value
            return text
        return _walk(value, t.type, path, problems)
    if isinstance(t, mi.StructType):
        return _walk_struct(value, t, path, problems)
    if isinstance(t, mi.ListType):
        if not isinstance(value, list):
            problems.error(path, f"expected a list, got {describe(value)}")
            return value
        items = [_walk(item, t.item_type, child(path, index), problems) for index, item in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(t, mi.DictType):
        if not isinstance(value, dict):
            problems.error(path, f"expected an object, got {describe(value)}")
            return value
        changed = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.error(map_child(path, str(key)), f"expected a string key, got {describe(key)}")
                continue
            new = _walk(item, t.value_type, map_child(path, key), problems)
            if new is not item:
                changed[key] = new
        return {**value, **changed} if changed else value
    if isinstance(t, mi.CustomType):
        try:
            dec_hook(t.cls, value)
        except ValueError as exc:
            problems.error(path, str(exc))
        return value
    category = _category(value)
    if not _accepts(t, category):
        problems.error(path, f"expected {expected(t)}, got {describe(value)}")
    elif category == "time":
        return yaml_time_text(value)
    return value


def _walk_struct(value: Any, t: mi.StructType, path: str, problems: Problems) -> Any:
    if not isinstance(value, dict):
        problems.error(path, f"expected an object, got {describe(value)}")
        return value
    fields = _fields_by_name(t)
    changed = {}
    for key, item in value.items():
        name = key if isinstance(key, str) else str(key)
        field = fields.get(name) if isinstance(key, str) else None
        if field is None:
            problems.error(child(path, name), f'unknown field "{name}"' + did_you_mean(name, fields))
            continue
        new = _walk(item, field.type, child(path, name), problems)
        if new is not item:
            changed[key] = new
    for name, field in fields.items():
        if field.required and name not in value:
            problems.error(child(path, name), "required field is missing")
    return {**value, **changed} if changed else value


_fields_cache: dict[type, dict[str, mi.Field]] = {}


def _fields_by_name(t: mi.StructType) -> dict[str, mi.Field]:
    fields = _fields_cache.get(t.cls)
    if fields is None:
        fields = _fields_cache[t.cls] = {f.encode_name: f for f in t.fields}
    return fields


def problem_from_msgspec(exc: msgspec.ValidationError, root: str) -> tuple[str, str]:
    """(path, message) from msgspec's own error text `... - at `$.a.b[0]``: the walker's safety net."""
    text = str(exc)
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        return root, text
    where = where.rstrip("`")
    rel = where[1:] if where.startswith("$") else where
    rel = rel[1:] if rel.startswith(".") else rel
    if not (root and rel):
        return root or rel, message
    return root + ("" if rel.startswith("[") else ".") + rel, message
