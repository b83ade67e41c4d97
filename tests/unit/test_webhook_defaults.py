"""Defaulting only adds absent fields; the patch is computed against the raw object."""

from __future__ import annotations

import copy

import jsonpatch
import pytest
import yaml

from webhook.defaults import (
    DefaultsError,
    WorkflowDefaults,
    creator_labels,
    defaulted,
    fill_absent,
    label_value,
    parse_defaults,
    patch_between,
)
from webhook.sources import TemplateStore

DEFAULTS = WorkflowDefaults(
    metadata={"labels": {"default-label": "yes"}, "annotations": {"a": "b"}},
    spec={
        "activeDeadlineSeconds": 300,
        "podGC": {"strategy": "OnPodSuccess"},
        "serviceAccountName": "runner",
    },
)


def run(obj, *, kind="Workflow", user="alice", defaults=DEFAULTS, store=None):
    raw = copy.deepcopy(obj)
    out = defaulted(
        raw,
        kind=kind,
        namespace="ns",
        user_info={"username": user},
        defaults=defaults,
        source=store or TemplateStore(),
    )
    assert raw == obj, "the input object must not be modified"
    return out, patch_between(obj, out)


def test_fill_absent_never_replaces():
    target = {"a": 1, "m": {"x": 1}, "l": [1]}
    fill_absent(target, {"a": 2, "b": 3, "m": {"x": 2, "y": 3}, "l": [9, 9]})
    assert target == {"a": 1, "b": 3, "m": {"x": 1, "y": 3}, "l": [1]}


def test_workflow_gets_defaults_and_creator_labels():
    wf = {
        "metadata": {"name": "w", "labels": {"default-label": "mine"}},
        "spec": {"activeDeadlineSeconds": 10},
    }
    out, patch = run(wf)
    assert out["metadata"]["labels"] == {"default-label": "mine", "workflows.argoproj.io/creator": "alice"}
    assert out["metadata"]["annotations"] == {"a": "b"}
    assert out["spec"] == {
        "activeDeadlineSeconds": 10,
        "podGC": {"strategy": "OnPodSuccess"},
        "serviceAccountName": "runner",
    }
    assert jsonpatch.apply_patch(wf, patch) == out
    assert all(op["op"] == "add" for op in patch)


def test_other_kinds_get_only_creator_labels():
    tmpl = {"metadata": {"name": "t"}, "spec": {"templates": []}}
    out, _ = run(tmpl, kind="WorkflowTemplate")
    assert out == {
        "metadata": {"name": "t", "labels": {"workflows.argoproj.io/creator": "alice"}},
        "spec": {"templates": []},
    }


def test_nothing_to_add_is_an_empty_patch():
    wf = {"metadata": {"labels": {"workflows.argoproj.io/creator": "alice"}}, "spec": {}}
    assert run(wf, defaults=WorkflowDefaults())[1] == []
    assert run(wf, user="")[1] != []  # defaults still apply without a user
    assert run({"spec": {}}, user="", defaults=WorkflowDefaults()) == ({"spec": {}}, [])


def test_a_workflow_template_ref_keeps_the_templates_values():
    store = TemplateStore()
    store.put(
        {
            "kind": "WorkflowTemplate",
            "metadata": {"name": "lib", "namespace": "ns"},
            "spec": {"activeDeadlineSeconds": 900, "podGC": {"deleteDelayDuration": "1m"}},
        }
    )
    wf = {"metadata": {"name": "w"}, "spec": {"workflowTemplateRef": {"name": "lib"}}}
    out, _ = run(wf, store=store)
    # The template sets activeDeadlineSeconds: a default here would override it (Workflow > template).
    assert "activeDeadlineSeconds" not in out["spec"]
    assert out["spec"]["podGC"] == {"strategy": "OnPodSuccess"}
    assert out["spec"]["serviceAccountName"] == "runner"
    missing = {"metadata": {"name": "w"}, "spec": {"workflowTemplateRef": {"name": "not-yet"}}}
    out, _ = run(missing, store=store)
    assert out["spec"] == missing["spec"]  # unknown template: no spec default can be proven safe


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("alice", {"workflows.argoproj.io/creator": "alice"}),
        ("system:serviceaccount:argo:ci", {"workflows.argoproj.io/creator": "argo-ci"}),
        (
            "bob@corp.example",
            {
                "workflows.argoproj.io/creator": "bob-corp.example",
                "workflows.argoproj.io/creator-email": "bob.at.corp.example",
            },
        ),
        ("", {}),
        ("---", {}),
    ],
)
def test_creator_labels(username, expected):
    assert creator_labels({"username": username}) == expected


def test_label_values_are_valid():
    assert label_value("x" * 100) == "x" * 63
    assert label_value("-a b/c-") == "a-b-c"


def test_parse_defaults_shapes():
    cm = {"kind": "ConfigMap", "data": {"workflowDefaults": yaml.safe_dump({"spec": {"parallelism": 2}})}}
    assert parse_defaults(cm).spec == {"parallelism": 2}
    assert parse_defaults(
        {"workflowDefaults": {"metadata": {"labels": {"a": "b"}, "name": "x"}}}
    ).metadata == {"labels": {"a": "b"}}
    assert parse_defaults({"kind": "ConfigMap", "data": {}}).empty
    with pytest.raises(DefaultsError):
        parse_defaults({"kind": "ConfigMap", "data": {"workflowDefaults": "a: [b"}})
    with pytest.raises(DefaultsError):
        parse_defaults(["not", "a", "mapping"])


LOCK_DEFAULTS = WorkflowDefaults(
    spec={"synchronization": {"mutexes": [{"name": "default"}]}, "parallelism": 3}
)


@pytest.mark.parametrize(
    "sync",
    [{"mutex": {"name": "mine"}}, {"mutexes": [{"name": "mine"}]}],
    ids=["v3 mutex", "v4 mutexes"],
)
def test_a_lock_written_in_either_spelling_keeps_the_default_lock_out(sync):
    """A v3 `mutex` is the workflow's `mutexes` (workflow/parse/normalise.py): a default list must not add
    a second lock beside it, and the user's spelling is never rewritten."""
    wf = {"metadata": {"name": "w"}, "spec": {"synchronization": sync}}
    out, patch = run(wf, defaults=LOCK_DEFAULTS)
    assert out["spec"]["synchronization"] == sync
    assert out["spec"]["parallelism"] == 3
    assert all(not op["path"].startswith("/spec/synchronization") for op in patch)


def test_a_v3_lock_in_the_referenced_template_keeps_the_default_lock_out():
    store = TemplateStore()
    store.put(
        {
            "kind": "WorkflowTemplate",
            "metadata": {"name": "lib", "namespace": "ns"},
            "spec": {"synchronization": {"semaphore": {"configMapKeyRef": {"name": "c", "key": "k"}}}},
        }
    )
    defaults = WorkflowDefaults(spec={"synchronization": {"semaphores": [{"database": {"key": "d"}}]}})
    wf = {"metadata": {"name": "w"}, "spec": {"workflowTemplateRef": {"name": "lib"}}}
    out, _ = run(wf, defaults=defaults, store=store)
    assert "synchronization" not in out["spec"]
    plain, _ = run({"metadata": {"name": "w"}, "spec": {}}, defaults=defaults)
    assert plain["spec"]["synchronization"] == {"semaphores": [{"database": {"key": "d"}}]}


def test_spoofed_creator_labels_are_replaced_by_the_requests_user():
    """Issue 13 item 10: `creator: system-admin` written by the user was kept."""
    wf = {
        "metadata": {
            "name": "w",
            "labels": {
                "workflows.argoproj.io/creator": "system-admin",
                "workflows.argoproj.io/creator-email": "boss.at.corp",
            },
        },
        "spec": {},
    }
    out, patch = run(wf, defaults=WorkflowDefaults())
    assert out["metadata"]["labels"] == {"workflows.argoproj.io/creator": "alice"}
    assert jsonpatch.apply_patch(wf, patch) == out
    out, _ = run(wf, user="", defaults=WorkflowDefaults())  # no user to name: no creator labels at all
    assert out["metadata"]["labels"] == {}


# ---- issue 15: the copy-on-write defaulting and its patch, against a deep copy and jsonpatch's diff ----

SPOOFED = {"workflows.argoproj.io/creator": "mallory", "team": "a"}
VARIED_DEFAULTS = [
    WorkflowDefaults(),
    DEFAULTS,
    WorkflowDefaults(
        metadata={"labels": {"a/b~c": "v"}},
        spec={
            "synchronization": {"mutexes": [{"name": "m"}]},
            "templateDefaults": {"timeout": "1h"},
            "podMetadata": {"labels": {"x": "y"}},
            "arguments": {"parameters": [{"name": "p", "value": "1"}]},
        },
    ),
]


def _argo_documents(root):
    import yaml

    for path in sorted(root.glob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        yield from (d for d in docs if isinstance(d, dict))


def _op_key(op):
    return op["op"], op["path"]


def test_the_patch_is_jsonpatchs_diff_and_the_copy_shares_what_it_keeps(argo_examples):
    store = TemplateStore()
    docs = list(_argo_documents(argo_examples))
    for doc in docs:
        if doc.get("kind") == "WorkflowTemplate":
            store.put({**doc, "metadata": {**doc.get("metadata", {}), "namespace": "ns"}})
    compared = 0
    for doc in docs:
        spoofed = {**doc, "metadata": {**doc.get("metadata", {}), "labels": SPOOFED}}
        bare = {k: v for k, v in doc.items() if k != "metadata"}
        for obj in (doc, spoofed, bare):
            for defaults in VARIED_DEFAULTS:
                for user in ("alice", "bob@corp.example", ""):
                    before = copy.deepcopy(obj)
                    out = defaulted(
                        obj,
                        kind=obj.get("kind") or "Workflow",
                        namespace="ns",
                        user_info={"username": user},
                        defaults=defaults,
                        source=store,
                    )
                    patch = patch_between(obj, out)
                    assert obj == before, "the object as received is never modified"
                    assert jsonpatch.apply_patch(obj, patch) == out
                    expected = jsonpatch.make_patch(before, out).patch
                    assert not any(op["op"] in ("move", "copy") for op in expected)
                    assert sorted(patch, key=_op_key) == sorted(expected, key=_op_key)
                    spec = obj.get("spec")
                    if isinstance(spec, dict) and "templates" in spec:
                        assert out["spec"]["templates"] is spec["templates"]  # shared, not copied
                    compared += 1
    assert compared > 3 * 150 * len(VARIED_DEFAULTS)


def test_filled_absent_leaves_its_target_alone_and_copies_only_changed_paths():
    from webhook.defaults import filled_absent

    kept = {"x": [1]}
    target = {"a": 1, "m": {"x": 1}, "k": kept}
    assert filled_absent(target, {"a": 2, "k": {"x": [2]}}) is target  # nothing to add: the same object
    out = filled_absent(target, {"b": 3, "m": {"y": 3}})
    assert target == {"a": 1, "m": {"x": 1}, "k": kept}
    assert out == {"a": 1, "m": {"x": 1, "y": 3}, "k": kept, "b": 3}
    assert out["k"] is kept and out["m"] is not target["m"]


def test_pointer_tokens_are_escaped():
    out = patch_between({"metadata": {}}, {"metadata": {"labels": {"a/b~c": "v"}}})
    assert out == [{"op": "add", "path": "/metadata/labels", "value": {"a/b~c": "v"}}]
    out = patch_between({"l": {"a/b~c": "u"}}, {"l": {"a/b~c": "v", "x": 1}})
    assert out == [
        {"op": "replace", "path": "/l/a~1b~0c", "value": "v"},
        {"op": "add", "path": "/l/x", "value": 1},
    ]
    assert patch_between({"a": 1, "b": [1]}, {"b": [2]}) == [
        {"op": "remove", "path": "/a"},
        {"op": "replace", "path": "/b", "value": [2]},
    ]
