"""JSON Schema of the types (for the CRDs): msgspec.json.schema_components plus Argo's special shapes."""

from __future__ import annotations

from typing import Any

import msgspec

from workflow.types.base import Plugin


def schema_hook(kind: type) -> dict[str, Any]:
    if kind is Plugin:
        # Argo's CRD: a free-form object (its single key is checked when parsing).
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    raise NotImplementedError(f"no JSON schema for {kind!r}")


def schema_components(types: list[type]) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """(one schema per type, the shared `$defs`), as msgspec.json.schema_components returns them."""
    return msgspec.json.schema_components(types, schema_hook=schema_hook, ref_template="#/$defs/{name}")
