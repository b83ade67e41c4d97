"""The template store the webhook resolves references from (files offline, informers in a cluster)."""

from __future__ import annotations

from webhook.sources import TemplateStore, load_template_dir


def wt(name, namespace=None, kind="WorkflowTemplate"):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": meta, "spec": {}}


def test_loading_a_directory_fills_the_store_it_is_given(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: a, namespace: ns}\nspec: {}\n"
        "---\napiVersion: argoproj.io/v1alpha1\nkind: ClusterWorkflowTemplate\nmetadata: {name: c}\nspec: {}\n"
        "---\napiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec: {}\n"
    )
    (tmp_path / "broken.yaml").write_text("a: [b\n")
    store = TemplateStore()  # empty, hence falsy: it must still be the one filled
    assert load_template_dir(tmp_path, store) is store
    assert len(store) == 2
    assert store.workflow_template("ns", "a")["metadata"]["name"] == "a"
    assert store.workflow_template("other", "a") is None
    assert store.cluster_workflow_template("c") is not None


def test_namespaceless_templates_serve_every_namespace_but_namespaced_ones_win():
    store = TemplateStore()
    store.put(wt("t"))
    store.put(wt("t", "ns"))
    assert store.workflow_template("x", "t")["metadata"] == {"name": "t"}
    assert store.workflow_template("ns", "t")["metadata"] == {"name": "t", "namespace": "ns"}
    store.remove(wt("t", "ns"))
    assert store.workflow_template("ns", "t")["metadata"] == {"name": "t"}


def test_replace_swaps_one_kind_only():
    store = TemplateStore()
    store.put(wt("a", "ns"))
    store.put(wt("c", kind="ClusterWorkflowTemplate"))
    store.replace("WorkflowTemplate", [wt("b", "ns")])
    assert store.workflow_template("ns", "a") is None and store.workflow_template("ns", "b") is not None
    assert store.cluster_workflow_template("c") is not None
