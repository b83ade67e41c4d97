"""The committed Kubernetes types are exactly what tools/gen_k8s_types.py writes, with Kubernetes' JSON names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import msgspec
import pytest

from workflow.parse import parse_object, to_dict
from workflow.types import k8s_generated

REPO = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_k8s_types", REPO / "tools" / "gen_k8s_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_gives_the_committed_file():
    generator = load_generator()
    committed = (REPO / "workflow" / "types" / "k8s_generated.py").read_text()
    assert generator.render() == committed, "run: .venv/bin/python tools/gen_k8s_types.py"


def test_every_field_has_the_json_name_of_the_kubernetes_schema():
    from kubernetes_asyncio.client import models

    generator = load_generator()
    checked = 0
    for model in generator.closure(generator.ROOTS):
        ours = getattr(k8s_generated, generator.short_name(model))
        names = {f.encode_name for f in msgspec.structs.fields(ours)}
        assert names == set(getattr(models, model).attribute_map.values()), model
        checked += 1
    assert checked == len(k8s_generated.__all__)


def container_workflow(container):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w"},
        "spec": {"entrypoint": "m", "templates": [{"name": "m", "container": container}]},
    }


def test_quantities_take_numbers_and_strings():
    container = {"image": "x", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}}}
    parsed = parse_object(container_workflow(container))
    assert parsed.errors == []
    assert parsed.obj.spec.templates[0].container.resources.limits == {"cpu": 1, "memory": "1Gi"}
    assert to_dict(parsed.obj)["spec"]["templates"][0]["container"] == container


@pytest.mark.parametrize("port", [8080, "http"])
def test_probe_ports_are_int_or_string(port):
    container = {"image": "x", "readinessProbe": {"httpGet": {"path": "/", "port": port}}}
    parsed = parse_object(container_workflow(container))
    assert parsed.errors == []
    assert parsed.obj.spec.templates[0].container.readiness_probe.http_get.port == port


def test_a_typo_inside_a_container_is_reported_with_its_path():
    container = {
        "image": "x",
        "comand": ["sh"],
        "env": [{"name": "A", "valu": "1"}],
        "ports": [{"containerPort": "80"}],
    }
    parsed = parse_object(container_workflow(container))
    assert [str(p) for p in parsed.errors] == [
        'spec.templates[0].container.comand: unknown field "comand" (did you mean "command"?)',
        'spec.templates[0].container.env[0].valu: unknown field "valu" (did you mean "value"?)',
        'spec.templates[0].container.ports[0].containerPort: expected an integer, got "80"',
    ]
