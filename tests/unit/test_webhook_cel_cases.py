"""The shared table of CEL rule cases: every evaluator behind webhook.policy.cel must give these
answers, so swapping evaluators never changes what a policy means."""

from __future__ import annotations

import pytest

from webhook.policy.cel import CelError, evaluator

EVALUATORS = ["cel-python", "cel-rust"]

CONTAINERS = [
    {
        "template": "build",
        "role": "main",
        "name": "main",
        "image": "registry.corp/build:1",
        "resources": {"limits": {"memory": "1Gi", "cpu": "1"}},
    },
    {
        "template": "build",
        "role": "sidecar",
        "name": "cache",
        "image": "docker.io/redis:7",
        "resources": {"requests": {"memory": "64Mi"}},
    },
    {"template": "lib/test", "role": "init", "name": "prep", "image": "registry.corp/prep:2"},
]
OBJECT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "wf", "labels": {"team": "a"}},
    "spec": {"entrypoint": "main", "parallelism": 3, "volumes": [{"name": "h", "hostPath": {"path": "/"}}]},
}
VARS = {
    "object": OBJECT,
    "expanded": OBJECT,
    "containers": CONTAINERS,
    "request": {"operation": "CREATE", "userInfo": {"username": "alice", "groups": ["dev"]}},
}

# (expression, expected result) — a result of CelError means evaluation must fail.
CASES = [
    ("true", True),
    ("1 + 2 * 3", 7),
    ("'a' + 'b'", "ab"),
    ("size(containers)", 3),
    ("containers.all(c, c.image.startsWith('registry.corp/'))", False),
    ("containers.exists(c, c.image.startsWith('docker.io/'))", True),
    ("containers.exists_one(c, c.role == 'init')", True),
    ("containers.filter(c, c.role == 'main').map(c, c.name)", ["main"]),
    ("containers.map(c, c.template)", ["build", "build", "lib/test"]),
    (
        "containers.all(c, has(c.resources) && has(c.resources.limits) && 'memory' in c.resources.limits)",
        False,
    ),
    ("containers.filter(c, !has(c.resources)).map(c, c.name)", ["prep"]),
    ("object.metadata.labels.team == 'a'", True),
    ("'team' in object.metadata.labels", True),
    ("has(object.metadata.annotations)", False),
    ("object.spec.parallelism > 2", True),
    ("object.spec.parallelism == 3 && object.spec.entrypoint == 'main'", True),
    ("!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))", False),
    ("request.userInfo.username in ['alice', 'bob']", True),
    ("'dev' in request.userInfo.groups", True),
    ("request.operation == 'UPDATE' ? 1 : 2", 2),
    ("object.metadata.name.matches('^w[a-z]$')", True),
    ("containers[0].image.endsWith(':1')", True),
    ("size(object.metadata.name) <= 63", True),
    ("object.spec.missing == 1", CelError),
    ("containers[10].image == ''", CelError),
    ("1 / 0 == 1", CelError),
    ("'x' + 1", CelError),
]


@pytest.fixture(params=EVALUATORS)
def cel(request):
    return evaluator(request.param)


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_rule_case(cel, expression, expected):
    program = cel.compile(expression)
    activation = cel.activation(VARIABLES_COPY())
    if expected is CelError:
        with pytest.raises(CelError):
            program.evaluate(activation)
    else:
        result = program.evaluate(activation)
        assert result == expected
        assert type(result) is type(expected)


def VARIABLES_COPY():  # noqa: N802 - reads like a constant at the call site
    import copy

    return copy.deepcopy(VARS)


@pytest.mark.parametrize("expression", ["", "   ", "1 +", "containers.all(c,", "a b", "'unterminated"])
def test_what_does_not_compile(cel, expression):
    with pytest.raises(CelError):
        cel.compile(expression)


def test_variables_a_program_reads_are_known(cel):
    assert cel.compile("containers.all(c, c.image != '')").variables == frozenset({"containers"})
    assert cel.compile("object.x == request.y").variables == frozenset({"object", "request"})


def test_one_activation_is_reused_across_programs(cel):
    activation = cel.activation(VARIABLES_COPY())
    first = cel.compile("size(containers) == 3")
    second = cel.compile("containers.exists(c, c.role == 'sidecar')")
    assert first.evaluate(activation) is True
    assert second.evaluate(activation) is True


def test_the_one_known_difference_is_pinned():
    """has() over an absent intermediate field: an error in cel-rust (and the CEL spec), false in
    cel-python. Policies here test each level instead; this test says so if either side changes."""
    expression = "has(object.metadata.annotations.x)"
    rust, python = evaluator("cel-rust"), evaluator("cel-python")
    with pytest.raises(CelError):
        rust.compile(expression).evaluate(rust.activation(VARIABLES_COPY()))
    assert python.compile(expression).evaluate(python.activation(VARIABLES_COPY())) is False
