"""DAG `depends`: parsing with positions, the (task, result) pairs validation needs, and evaluation."""

from __future__ import annotations

import pytest

from workflow.expr import (
    DependsSyntaxError,
    ExprRuntimeError,
    TaskState,
    dependencies_as_depends,
    parse_depends,
)

SUCCEEDED = TaskState("Succeeded")
FAILED = TaskState("Failed")
ERRORED = TaskState("Error")
SKIPPED = TaskState("Skipped")
OMITTED = TaskState("Omitted")
DAEMON = TaskState("Running", daemoned=True)
PENDING_DAEMON = TaskState("Pending", daemoned=True)

# (depends, states, expected)
CASES = [
    ("A", {"A": SUCCEEDED}, True),
    ("A", {"A": SKIPPED}, True),
    ("A", {"A": DAEMON}, True),
    ("A", {"A": PENDING_DAEMON}, False),
    ("A", {"A": FAILED}, False),
    ("A", {"A": ERRORED}, False),
    ("A", {"A": OMITTED}, False),
    ("A.Succeeded", {"A": SKIPPED}, False),
    ("A.Failed", {"A": FAILED}, True),
    ("A.Errored", {"A": ERRORED}, True),
    ("A.Failed", {"A": ERRORED}, False),
    ("A.Skipped", {"A": SKIPPED}, True),
    ("A.Omitted", {"A": OMITTED}, True),
    ("A.Daemoned", {"A": DAEMON}, True),
    ("A && B", {"A": SUCCEEDED, "B": SKIPPED}, True),
    ("A && B", {"A": SUCCEEDED, "B": FAILED}, False),
    ("A || B", {"A": FAILED, "B": SUCCEEDED}, True),
    ("B.Failed && C", {"B": FAILED, "C": SUCCEEDED}, True),
    ("A && (C.Succeeded || C.Failed)", {"A": SUCCEEDED, "C": FAILED}, True),
    ("A && (C.Succeeded || C.Failed)", {"A": SUCCEEDED, "C": ERRORED}, False),
    ("!A.Succeeded", {"A": FAILED}, True),
    ("!(A || B)", {"A": FAILED, "B": FAILED}, True),
    ("!!A", {"A": SUCCEEDED}, True),
    (
        "should-execute-2.Succeeded || should-not-execute",
        {"should-execute-2": FAILED, "should-not-execute": SKIPPED},
        True,
    ),
    ("producer-1 && producer-2 && producer-3", {f"producer-{i}": SUCCEEDED for i in (1, 2, 3)}, True),
    ("A || B && C", {"A": FAILED, "B": SUCCEEDED, "C": FAILED}, False),  # && binds tighter
    ("A || B && C", {"A": SUCCEEDED, "B": FAILED, "C": FAILED}, True),
    ("  A\n&&\tB  ", {"A": SUCCEEDED, "B": SUCCEEDED}, True),
    # expanded tasks: AnySucceeded / AllFailed look at the children
    ("A.AnySucceeded", {"A": TaskState("Failed", children=("Failed", "Succeeded"))}, True),
    ("A.AnySucceeded", {"A": TaskState("Failed", children=("Failed", "Error"))}, False),
    ("A.AllFailed", {"A": TaskState("Failed", children=("Failed", "Failed"))}, True),
    ("A.AllFailed", {"A": TaskState("Failed", children=("Failed", "Error"))}, False),
    ("A.AllFailed", {"A": TaskState("Failed", children=("Failed", None))}, False),  # unknown child
    ("A.AllFailed", {"A": TaskState("Succeeded", children=())}, False),
    ("A.AllFailed", {"A": FAILED}, False),  # not expanded
]


@pytest.mark.parametrize(("src", "states", "expected"), CASES, ids=[c[0] for c in CASES])
def test_depends_evaluates(src, states, expected):
    assert parse_depends(src).evaluate(states.get) is expected


def test_pairs_tasks_and_expansion_for_validation():
    d = parse_depends("A && (B.Failed || !c-1.AllFailed) && A.Errored")
    assert d.tasks() == ("A", "B", "c-1")
    assert d.task_results() == (
        ("A", "Succeeded"),
        ("A", "Skipped"),
        ("A", "Daemoned"),
        ("B", "Failed"),
        ("c-1", "AllFailed"),
        ("A", "Errored"),
    )
    assert d.item_tasks() == {"c-1"}
    assert (
        d.expanded()
        == "(A.Succeeded || A.Skipped || A.Daemoned) && (B.Failed || !c-1.AllFailed) && A.Errored"
    )


def test_empty_depends_has_no_tasks_and_holds():
    d = parse_depends("")
    assert d.tasks() == ()
    assert d.evaluate(lambda task: None) is True


# (depends, message, column)
SYNTAX_ERRORS = [
    ("A &&", "unexpected end of depends: a task name is missing", 5),
    ("&& A", "unexpected '&': expected a task name", 1),
    ("A & B", "unexpected '&'", 3),
    ("A | B", "unexpected '|'", 3),
    ("A B", "unexpected 'B'", 3),
    ("(A || B", "missing ) to close the ( at column 1", 8),
    ("A || B)", "unexpected ')'", 7),
    ("A.Success", "task result 'Success' for task 'A' is invalid", 3),
    ("A.succeeded", "task result 'succeeded' for task 'A' is invalid", 3),
    ("A.", "expected a task result after 'A.'", 3),
    ("A.Succeeded.Failed", "unexpected '.'", 12),
    ("A == B", "unexpected '='", 3),
    ("A.Failed and B", "unexpected 'a'", 10),
    ("{{tasks.A}}", "unexpected '{'", 1),
]


@pytest.mark.parametrize(("src", "message", "column"), SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS])
def test_depends_syntax_errors(src, message, column):
    with pytest.raises(DependsSyntaxError) as err:
        parse_depends(src)
    assert message in err.value.message
    assert err.value.column == column


def test_a_task_without_a_result_is_an_error_not_a_guess():
    with pytest.raises(ExprRuntimeError, match="task 'B' has no result yet"):
        parse_depends("A && B").evaluate({"A": SUCCEEDED}.get)


def test_legacy_dependencies_become_depends():
    assert dependencies_as_depends(["A", "B"], {}) == (
        "(A.Succeeded || A.Skipped || A.Daemoned) && (B.Succeeded || B.Skipped || B.Daemoned)"
    )

    class ContinueOn:
        error = True
        failed = False

    text = dependencies_as_depends(["A", "B"], {"A": {"failed": True, "error": True}, "B": ContinueOn()})
    assert text == (
        "(A.Succeeded || A.Skipped || A.Daemoned || A.Errored || A.Failed)"
        " && (B.Succeeded || B.Skipped || B.Daemoned || B.Errored)"
    )
    d = parse_depends(text)
    assert d.evaluate({"A": FAILED, "B": ERRORED}.get) is True
    assert d.evaluate({"A": FAILED, "B": FAILED}.get) is False
    assert dependencies_as_depends([], None) == ""


def test_a_long_chain_stays_flat():
    names = [f"task-{i}" for i in range(2000)]
    d = parse_depends(" && ".join(names))
    states = {n: SUCCEEDED for n in names}
    assert d.evaluate(states.get) is True
    states["task-1999"] = FAILED
    assert d.evaluate(states.get) is False
