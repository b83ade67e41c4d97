"""The status the engine writes parses with the strict Argo types (workflow.types): every field name,
type and nesting is one Argo's API accepts."""

from __future__ import annotations

import pytest
from engine_world import World
from test_engine_control import on_exit
from test_engine_params import wf
from test_steps_shape import DEMO

from workflow.parse import parse_object

C = {"image": "busybox", "command": ["true"]}
CASES = {
    "steps-loop-exit": DEMO,
    "retries-hooks-outputs": wf(
        "rich",
        [
            {
                "name": "main",
                "steps": [
                    [{"name": "a", "template": "r", "hooks": {"exit": {"template": "c"}}}],
                    [{"name": "b", "template": "c", "when": "1 == 2"}],
                ],
                "outputs": {
                    "parameters": [
                        {
                            "name": "o",
                            "globalName": "g",
                            "valueFrom": {"parameter": "{{steps.a.outputs.parameters.x}}"},
                        }
                    ]
                },
            },
            {
                "name": "r",
                "retryStrategy": {"limit": 2},
                "container": C,
                "outputs": {
                    "parameters": [{"name": "x", "valueFrom": {"path": "/tmp/x", "default": "d"}}],
                    "artifacts": [{"name": "art", "path": "/tmp/a"}],
                },
            },
            {"name": "c", "container": C},
        ],
        onExit="c",
    ),
    "dag-taskgroup-omitted": wf(
        "dagt",
        [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "A", "template": "c", "withItems": [1, 2]},
                        {"name": "B", "template": "c", "depends": "A.Failed"},
                    ]
                },
            },
            {"name": "c", "container": C},
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_parses_as_argo_types(case):
    world = World(CASES[case])
    attempts = iter([1, 0, 0, 0, 0, 0, 0, 0])

    def outcome(pod):
        if on_exit(pod):
            return 0, None
        return next(attempts), {
            "parameters": [{"name": "x", "value": "1"}],
            "artifacts": [{"name": "art", "path": "/tmp/a", "s3": {"key": "k/a.tgz"}}],
        }

    world.run(outcome=outcome)
    parsed = parse_object(world.workflow)
    assert [str(e) for e in parsed.errors] == []
    assert world.phase in ("Succeeded", "Failed")
