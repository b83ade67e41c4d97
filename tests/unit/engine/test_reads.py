"""Which steps or tasks a template may read (workflow/engine/reads.py): a loop's aggregated outputs are
built only for those, so the test must never say "no" where a string can refer to the name."""

from __future__ import annotations

import json

import pytest
from engine_world import World

from workflow.engine.reads import Reads


@pytest.mark.parametrize(
    ("text", "name", "may"),
    [
        ("{{steps.work.outputs.parameters.o}}", "work", True),
        ("{{ steps.work.outputs.result }}", "work", True),
        ("{{steps.other.outputs.result}}", "work", False),
        ("{{steps.work-2.outputs.result}}", "work-2", True),  # `steps.work` as far as a word goes
        ("{{steps.work.outputs.result}}", "work-2", True),  # (an expression reads work-2 as work minus 2)
        ("{{steps.workers.outputs.result}}", "work", False),
        ("{{=steps['work'].outputs.result}}", "work", True),  # any other spelling counts for every name
        ("{{=toJson(steps)}}", "anything", True),
        ("{{=steps?.work}}", "work", True),
        ("run 3 steps", "work", True),  # prose: conservative
        ("mysteps.work", "work", False),
        ("{{item}}", "work", False),
    ],
)
def test_a_name_may_be_read_when_a_string_can_refer_to_it(text, name, may):
    assert Reads({"arguments": {"parameters": [{"name": "i", "value": text}]}}, "steps").may_read(name) is may


def test_structural_keys_are_not_reads_but_keys_with_tags_are():
    template = {"name": "main", "steps": [[{"name": "work", "template": "t"}]]}
    assert not Reads(template, "steps").may_read("work")
    assert Reads({"{{steps.work.outputs.result}}": "x"}, "steps").may_read("work")
    assert Reads({"tasks": [{"name": "a", "when": "{{tasks.a.outputs.result}} == 1"}]}, "tasks").may_read("a")


def _loop_then(reader_value: str, output_from: dict | None = None) -> dict:
    main = {
        "name": "main",
        "steps": [
            [{"name": "work", "template": "echo", "withItems": [1, 2, 3]}],
            [
                {
                    "name": "after",
                    "template": "echo",
                    "arguments": {"parameters": [{"name": "i", "value": reader_value}]},
                }
            ],
        ],
    }
    if output_from is not None:
        main["outputs"] = {"parameters": [{"name": "all", "valueFrom": output_from}]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "agg"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                main,
                {
                    "name": "echo",
                    "inputs": {"parameters": [{"name": "i", "value": "x"}]},
                    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.i}}"]},
                    "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o"}}]},
                },
            ],
        },
    }


def _run(workflow: dict) -> World:
    world = World(workflow)
    world.run(lambda pod: (0, {"result": "r", "parameters": [{"name": "o", "value": "v"}]}))
    return world


@pytest.mark.parametrize(
    "reader",
    ["{{steps.work.outputs.parameters.o}}", "{{=steps['work'].outputs.parameters.o}}"],
)
def test_the_aggregate_is_there_for_a_later_step_that_reads_it(reader):
    world = _run(_loop_then(reader))
    assert world.phase == "Succeeded"
    given = world.node("agg[1].after")["inputs"]["parameters"][0]["value"]
    assert json.loads(given) == ["v", "v", "v"]


def test_the_aggregate_is_there_for_the_template_s_outputs():
    world = _run(_loop_then("plain", {"parameter": "{{steps.work.outputs.result}}"}))
    assert world.phase == "Succeeded"
    assert world.node("agg")["outputs"]["parameters"][0]["value"] == '["r","r","r"]'
