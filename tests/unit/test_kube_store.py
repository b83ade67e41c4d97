"""The informer's cache (kube/informer.py Store): relists report what changed, indexes follow objects."""

from __future__ import annotations

from kube.informer import Store


def obj(name, rv="1", ns="ns", wf=None):
    meta = {"name": name, "namespace": ns, "resourceVersion": rv}
    if wf:
        meta["labels"] = {"workflows.argoproj.io/workflow": wf}
    return {"metadata": meta}


def test_a_relist_reports_additions_changes_and_deletions_it_missed():
    seen = []
    store = Store(handlers=[lambda kind, o: seen.append((kind, o["metadata"]["name"]))])
    store.replace([obj("a"), obj("b")])
    assert sorted(seen) == [("ADDED", "a"), ("ADDED", "b")]
    seen.clear()
    store.replace([obj("a"), obj("c")])  # b deleted while the watch was down, c added
    assert sorted(seen) == [("ADDED", "c"), ("DELETED", "b")]
    seen.clear()
    store.replace([obj("a", rv="2"), obj("c")])
    assert seen == [("MODIFIED", "a")]
    assert store.get("ns", "b") is None and store.get("ns", "a")["metadata"]["resourceVersion"] == "2"


def test_index_follows_updates_and_deletes():
    store = Store(
        indexers={"wf": lambda o: (o["metadata"].get("labels") or {}).get("workflows.argoproj.io/workflow")}
    )
    store.apply("ADDED", obj("p1", wf="w1"))
    store.apply("ADDED", obj("p2", wf="w1"))
    store.apply("MODIFIED", obj("p2", rv="2", wf="w2"))
    assert [o["metadata"]["name"] for o in store.by_index("wf", "w1")] == ["p1"]
    assert [o["metadata"]["name"] for o in store.by_index("wf", "w2")] == ["p2"]
    store.apply("DELETED", obj("p1", wf="w1"))
    assert store.by_index("wf", "w1") == [] and len(store) == 1


def test_a_failing_handler_does_not_stop_the_others():
    seen = []

    def boom(kind, o):
        raise RuntimeError("x")

    store = Store(handlers=[boom, lambda kind, o: seen.append(kind)])
    store.apply("ADDED", obj("a"))
    assert seen == ["ADDED"] and store.get("ns", "a") is not None
