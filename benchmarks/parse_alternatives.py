"""The status subset (WorkflowStatus → NodeStatus → Inputs/Outputs → Parameter/Artifact) modelled with
pydantic v2 and with plain dataclasses, to compare against the msgspec types on the same documents.

Only bench_parse.py uses this; pydantic is not a project dependency (the benchmark says how to add it).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

# --- dataclasses with a type-driven converter (what a hand-rolled strict decoder costs) --------------


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Invalid(Exception):
    pass


def _any_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise Invalid("expected a string, number or boolean")


_converters: dict[Any, Any] = {}


def converter(tp: Any):
    found = _converters.get(tp)
    if found is not None:
        return found
    origin = typing.get_origin(tp)
    if tp is str:

        def conv(v):
            if not isinstance(v, str):
                raise Invalid("expected a string")
            return v
    elif tp is int:

        def conv(v):
            if not isinstance(v, int) or isinstance(v, bool):
                raise Invalid("expected an integer")
            return v
    elif tp is bool:

        def conv(v):
            if not isinstance(v, bool):
                raise Invalid("expected a boolean")
            return v
    elif tp is AnyStr:
        conv = _any_string
    elif origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        inner_conv = converter(inner)

        def conv(v):
            return None if v is None else inner_conv(v)
    elif origin is list:
        item = converter(typing.get_args(tp)[0])

        def conv(v):
            if not isinstance(v, list):
                raise Invalid("expected a list")
            return [item(x) for x in v]
    elif origin is dict:
        value_conv = converter(typing.get_args(tp)[1])

        def conv(v):
            if not isinstance(v, dict):
                raise Invalid("expected an object")
            return {k: value_conv(x) for k, x in v.items()}
    elif dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {_camel(f.name): (f.name, None) for f in dataclasses.fields(tp)}
        conv_by_json: dict[str, Any] = {}
        _converters[tp] = lambda v: build(v)  # recursion guard

        def build(v):
            if not isinstance(v, dict):
                raise Invalid("expected an object")
            kwargs = {}
            for key, value in v.items():
                target = fields.get(key)
                if target is None:
                    raise Invalid(f"unknown field {key}")
                fn = conv_by_json.get(key)
                if fn is None:
                    fn = conv_by_json[key] = converter(hints[target[0]])
                kwargs[target[0]] = fn(value)
            return tp(**kwargs)

        conv = build
    else:
        raise TypeError(tp)
    _converters[tp] = conv
    return conv


class AnyStr(str):
    """Marker for AnyString in the dataclass models."""


@dataclasses.dataclass(slots=True, kw_only=True)
class DParameter:
    name: str
    value: AnyStr | None = None
    default: AnyStr | None = None
    global_name: str | None = None


@dataclasses.dataclass(slots=True, kw_only=True)
class DS3:
    key: str | None = None
    bucket: str | None = None


@dataclasses.dataclass(slots=True, kw_only=True)
class DArtifact:
    name: str
    path: str | None = None
    s3: DS3 | None = None


@dataclasses.dataclass(slots=True, kw_only=True)
class DIO:
    parameters: list[DParameter] | None = None
    artifacts: list[DArtifact] | None = None
    result: str | None = None
    exit_code: str | None = None


@dataclasses.dataclass(slots=True, kw_only=True)
class DNode:
    id: str
    name: str
    type: str
    display_name: str | None = None
    template_name: str | None = None
    template_scope: str | None = None
    phase: str | None = None
    boundary_i_d: str | None = None  # camel-cases to "boundaryID"
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    progress: str | None = None
    resources_duration: dict[str, int] | None = None
    inputs: DIO | None = None
    outputs: DIO | None = None
    children: list[str] | None = None
    host_node_name: str | None = None
    task_result_synced: bool | None = None


@dataclasses.dataclass(slots=True, kw_only=True)
class DStatus:
    phase: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    progress: str | None = None
    nodes: dict[str, DNode] | None = None


def dataclass_parse(doc: dict) -> DStatus:
    return converter(DStatus)(doc)


# --- pydantic v2 -----------------------------------------------------------------------------------


def pydantic_models():
    """Built on demand so this module imports without pydantic."""
    from typing import Annotated

    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
    from pydantic.alias_generators import to_camel

    AnyString = Annotated[
        str, BeforeValidator(lambda v: _any_string(v) if isinstance(v, (bool, int, float)) else v)
    ]
    config = ConfigDict(alias_generator=to_camel, extra="forbid", populate_by_name=True, strict=True)

    class PParameter(BaseModel):
        model_config = config
        name: str
        value: AnyString | None = None
        default: AnyString | None = None
        global_name: str | None = None

    class PS3(BaseModel):
        model_config = config
        key: str | None = None
        bucket: str | None = None

    class PArtifact(BaseModel):
        model_config = config
        name: str
        path: str | None = None
        s3: PS3 | None = None

    class PIO(BaseModel):
        model_config = config
        parameters: list[PParameter] | None = None
        artifacts: list[PArtifact] | None = None
        result: str | None = None
        exit_code: str | None = None

    class PNode(BaseModel):
        model_config = config
        id: str
        name: str
        type: str
        display_name: str | None = None
        template_name: str | None = None
        template_scope: str | None = None
        phase: str | None = None
        boundary_id: str | None = Field(default=None, alias="boundaryID")
        message: str | None = None
        started_at: str | None = None
        finished_at: str | None = None
        progress: str | None = None
        resources_duration: dict[str, int] | None = None
        inputs: PIO | None = None
        outputs: PIO | None = None
        children: list[str] | None = None
        host_node_name: str | None = None
        task_result_synced: bool | None = None

    class PStatus(BaseModel):
        model_config = config
        phase: str | None = None
        started_at: str | None = None
        finished_at: str | None = None
        progress: str | None = None
        nodes: dict[str, PNode] | None = None

    return PStatus
