"""The graph layout of `sluice ui` (sluice/ui/layout.py): pure, on statuses shaped as the engine writes them."""

from __future__ import annotations

from sluice.ui.layout import COLLAPSE_AT, layout


def node(nid, kind="Pod", phase="Succeeded", children=(), display=None, **extra):
    return {
        "id": nid,
        "name": nid,
        "displayName": display or nid,
        "type": kind,
        "phase": phase,
        "children": list(children),
        **extra,
    }


def wf(*nodes, name="w"):
    return {"metadata": {"name": name}, "status": {"nodes": {n["id"]: n for n in nodes}}}


def by_id(graph):
    return {n["id"]: n for n in graph["nodes"]}


def layer_of(graph):
    ys = sorted({n["y"] + n["h"] / 2 for n in graph["nodes"]})
    return {n["id"]: ys.index(n["y"] + n["h"] / 2) for n in graph["nodes"]}


def no_overlap(graph):
    rows = {}
    for n in graph["nodes"]:
        rows.setdefault(n["y"] + n["h"] / 2, []).append(n)
    for row in rows.values():
        row.sort(key=lambda n: n["x"])
        for a, b in zip(row, row[1:], strict=False):
            assert a["x"] + a["w"] <= b["x"], (a["id"], b["id"])


def test_steps_are_drawn_top_down_in_their_groups():
    g = layout(
        wf(
            node("w", "Steps", children=["g0"], outboundNodes=["c"]),
            node("g0", "StepGroup", children=["a"], boundaryID="w"),
            node("a", children=["g1"], boundaryID="w"),
            node("g1", "StepGroup", children=["b", "c"], boundaryID="w"),
            node("b", phase="Failed", boundaryID="w"),
            node("c", "Skipped", phase="Skipped", boundaryID="w"),
        )
    )
    layers = layer_of(g)
    assert [layers[i] for i in ("w", "g0", "a", "g1", "b", "c")] == [0, 1, 2, 3, 4, 4]
    assert set(map(tuple, g["edges"])) == {("w", "g0"), ("g0", "a"), ("a", "g1"), ("g1", "b"), ("g1", "c")}
    nodes = by_id(g)
    assert nodes["g0"]["w"] < nodes["a"]["w"]  # step groups are small circles
    assert nodes["b"]["phase"] == "Failed"
    no_overlap(g)
    assert g["width"] >= max(n["x"] + n["w"] for n in g["nodes"])
    assert g["height"] >= max(n["y"] + n["h"] for n in g["nodes"])


def test_dag_layers_follow_the_longest_path_and_children_sit_under_parents():
    g = layout(
        wf(
            node("w", "DAG", children=["A"], outboundNodes=["D"]),
            node("A", children=["B", "C", "D"], boundaryID="w"),
            node("B", children=["D"], boundaryID="w"),
            node("C", boundaryID="w"),
            node("D", boundaryID="w"),
        )
    )
    layers = layer_of(g)
    assert layers["D"] == layers["B"] + 1 == 3  # below B although A is also its parent
    nodes = by_id(g)
    centre = {i: n["x"] + n["w"] / 2 for i, n in nodes.items()}
    assert centre["w"] == centre["A"]
    assert abs(centre["D"] - centre["B"]) < abs(centre["D"] - centre["C"])
    no_overlap(g)


def test_a_nested_template_hands_the_next_step_over_from_its_leaves():
    """A Steps node calling a nested template: the caller's next group hangs from the nested leaves."""
    g = layout(
        wf(
            node("w", "Steps", children=["g0"], outboundNodes=["after"]),
            node("g0", "StepGroup", children=["inner"], boundaryID="w"),
            node("inner", "Steps", children=["ig0", "g1"], outboundNodes=["leaf"], boundaryID="w"),
            node("ig0", "StepGroup", children=["leaf"], boundaryID="inner"),
            node("leaf", boundaryID="inner"),
            node("g1", "StepGroup", children=["after"], boundaryID="w"),
            node("after", boundaryID="w"),
        )
    )
    edges = set(map(tuple, g["edges"]))
    assert ("leaf", "g1") in edges and ("inner", "g1") not in edges
    layers = layer_of(g)
    assert layers["g1"] > layers["leaf"]


def test_retries_are_grouped_and_the_next_step_follows_the_last_attempt():
    g = layout(
        wf(
            node("w", "Steps", children=["g0"], outboundNodes=["a2"]),
            node("g0", "StepGroup", children=["r"]),
            node("r", "Retry", children=["a0", "a1", "a2", "g1"], display="flaky"),
            node("a0", phase="Failed", display="flaky(0)"),
            node("a1", phase="Failed", display="flaky(1)"),
            node("a2", display="flaky(2)"),
            node("g1", "StepGroup", children=["z"]),
            node("z"),
        )
    )
    edges = set(map(tuple, g["edges"]))
    assert ("a2", "g1") in edges and ("r", "g1") not in edges
    (group,) = g["groups"]
    assert group["kind"] == "retry" and group["label"] == "flaky: 3 attempts" and not group["collapsed"]
    nodes = by_id(g)
    assert all(nodes[a]["group"] == group["id"] for a in ("a0", "a1", "a2"))
    for a in ("a0", "a1", "a2"):  # the box holds its attempts
        n = nodes[a]
        assert group["x"] <= n["x"] and n["x"] + n["w"] <= group["x"] + group["w"]
        assert group["y"] <= n["y"] and n["y"] + n["h"] <= group["y"] + group["h"]


def loop(count, phases=None):
    items = [
        node(f"i{k}", phase=(phases or {}).get(k, "Succeeded"), display=f"item({k}:{k})", children=["g1"])
        for k in range(count)
    ]
    return wf(
        node("w", "Steps", children=["g0"], outboundNodes=["end"]),
        node("g0", "StepGroup", children=[i["id"] for i in items]),
        *items,
        node("g1", "StepGroup", children=["end"]),
        node("end"),
    )


def test_a_small_loop_is_a_group_kept_together():
    g = layout(loop(5))
    (group,) = g["groups"]
    assert group["kind"] == "loop" and group["label"] == "item × 5" and not group["collapsible"]
    xs = sorted((n["x"], n["id"]) for n in g["nodes"] if n.get("group") == group["id"])
    assert [i for _, i in xs] == [f"i{k}" for k in range(5)]
    no_overlap(g)


def test_a_big_loop_is_collapsed_with_its_phases_counted_until_expanded():
    count = COLLAPSE_AT + 10
    g = layout(loop(count, {3: "Failed", 7: "Running"}))
    (group,) = g["groups"]
    assert group["collapsed"]
    summary = by_id(g)[group["id"]]
    assert summary["type"] == "Collapsed"
    assert summary["counts"] == {"Succeeded": count - 2, "Failed": 1, "Running": 1}
    assert summary["phase"] == "Failed"  # the worst phase shows
    assert g["hidden"]["i3"] == group["id"]
    edges = set(map(tuple, g["edges"]))
    assert ("g0", group["id"]) in edges and (group["id"], "g1") in edges
    assert len(g["nodes"]) == 5

    full = layout(loop(count), {group["id"]})
    assert len(full["nodes"]) == count + 4 and not full["hidden"]
    assert layout(loop(count), {"all"})["nodes"] == full["nodes"]


def test_the_exit_handler_hangs_from_the_workflow_leaves():
    g = layout(
        wf(
            node("w", "Steps", children=["g0"], outboundNodes=["a"]),
            node("g0", "StepGroup", children=["a"]),
            node("a"),
            node("w-exit", display="w.onExit"),
        )
    )
    assert ("a", "w-exit") in set(map(tuple, g["edges"]))
    assert layer_of(g)["w-exit"] == layer_of(g)["a"] + 1


def test_a_malformed_status_still_lays_out():
    cyclic = wf(
        node("w", "Steps", children=["a"]), node("a", children=["b", "ghost"]), node("b", children=["a"])
    )
    g = layout(cyclic)
    assert {n["id"] for n in g["nodes"]} == {"w", "a", "b"}
    assert len(g["edges"]) == 2  # the edge closing the cycle and the one to a missing node are dropped
    empty = layout({"metadata": {"name": "x"}})
    assert empty.pop("shape")
    assert empty == {
        "nodes": [],
        "edges": [],
        "groups": [],
        "hidden": {},
        "width": 20,
        "height": 0,
    }


def test_two_thousand_nodes_lay_out_without_overlaps():
    tasks = [node(f"t{k}", children=[f"t{k + 40}"] if k + 40 < 2000 else []) for k in range(2000)]
    g = layout(wf(node("w", "DAG", children=[f"t{k}" for k in range(40)]), *tasks))
    assert len(g["nodes"]) == 2001
    assert max(layer_of(g).values()) == 50
    no_overlap(g)


def test_the_shape_changes_with_the_drawing_not_with_phases():
    """The page redraws only when the shape changes; phases alone are updated in place (app.js)."""
    before = layout(loop(5))
    running = loop(5, {2: "Running"})
    assert layout(running)["shape"] == before["shape"]
    assert layout(running)["nodes"] != before["nodes"]
    assert layout(loop(6))["shape"] != before["shape"]
