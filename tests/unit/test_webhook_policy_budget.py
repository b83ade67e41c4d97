"""The policy cost budget (webhook/policy/engine.py): rules whose input holds too many values are not
evaluated and count as errors, so failurePolicy decides; the count stops at the budget."""

from __future__ import annotations

from webhook.policy.cel import CelPython
from webhook.policy.engine import count_values, evaluate_rules


def test_count_values_counts_keys_items_and_scalars_and_stops_past_the_limit():
    assert count_values({"a": [1, 2], "b": "x"}, 100) == 1 + 2 + 1 + 2 + 1  # map, 2 keys, list, 2 items, str
    big = [{"a": i} for i in range(100_000)]
    assert 10 < count_values(big, 10) < 20


def test_rules_over_the_budget_are_errors_and_under_it_are_evaluated():
    cel = CelPython()
    rules = [
        (cel.compile("object.xs.size() > 0"), None),
        (cel.compile("request.operation == 'CREATE'"), None),
    ]
    values = {
        "object": {"xs": list(range(50))},
        "expanded": {},
        "containers": [],
        "request": {"operation": "CREATE"},
    }
    assert evaluate_rules(cel, values, rules, max_values=1000) == [("ok", True, None), ("ok", True, None)]
    over = evaluate_rules(cel, values, rules, max_values=20)
    assert [r[0] for r in over] == ["error", "error"]
    assert "over 20 values (the policy cost budget)" in over[0][1]


def test_only_the_variables_the_rules_read_count():
    cel = CelPython()
    rules = [(cel.compile("request.operation == 'CREATE'"), None)]
    values = {
        "object": {"xs": list(range(10_000))},
        "expanded": {},
        "containers": [],
        "request": {"operation": "CREATE"},
    }
    assert evaluate_rules(cel, values, rules, max_values=100) == [("ok", True, None)]
