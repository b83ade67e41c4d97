"""Parameters, arguments, inputs and outputs."""

from __future__ import annotations

from workflow.types.artifacts import Artifact
from workflow.types.base import AnyString, ArgoStruct
from workflow.types.k8s import ConfigMapKeySelector


class SuppliedValueFrom(ArgoStruct):
    """Marks an output parameter of a suspend template as supplied at resume time."""


class ValueFrom(ArgoStruct):
    """Where a parameter's value comes from; exactly one source is set (checked by validation)."""

    path: str | None = None
    json_path: str | None = None
    jq_filter: str | None = None
    event: str | None = None
    parameter: str | None = None
    supplied: SuppliedValueFrom | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    default: AnyString | None = None
    expression: str | None = None


class Parameter(ArgoStruct):
    """A named string value. value/default/enum/description also accept numbers and booleans."""

    name: str
    default: AnyString | None = None
    value: AnyString | None = None
    value_from: ValueFrom | None = None
    global_name: str | None = None
    enum: list[AnyString] | None = None
    description: AnyString | None = None


class Arguments(ArgoStruct):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


class Inputs(ArgoStruct):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


class Outputs(ArgoStruct):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None
    result: str | None = None
    exit_code: str | None = None
