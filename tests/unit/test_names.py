"""Names and IDs against Argo's own test vectors."""

from __future__ import annotations

import pytest

from workflow import names

FAILED_RETRIES = [
    ("failed-retries-tjjsc[0]", "failed-retries-tjjsc-2095973878", "[0]"),
    ("failed-retries-tjjsc[0].fail", "failed-retries-tjjsc-20069324", "fail"),
    ("failed-retries-tjjsc[0].fail(0)", "failed-retries-tjjsc-1229492679", "fail(0)"),
    ("failed-retries-tjjsc[0].fail(1)", "failed-retries-tjjsc-759866442", "fail(1)"),
]


@pytest.mark.parametrize(("name", "expected_id", "shown"), FAILED_RETRIES)
def test_failed_retries_fixture(name, expected_id, shown):
    assert names.node_id("failed-retries-tjjsc", name) == expected_id
    assert names.display_name(name, "failed-retries-tjjsc") == shown


def test_fnv1a_known_values():
    # Reference values of FNV-1a 32 (the empty string is the offset basis).
    assert names.fnv1a_32("") == 0x811C9DC5
    assert names.fnv1a_32("a") == 0xE40C292C
    assert names.fnv1a_32("foobar") == 0xBF9CF968


def test_root_id_is_the_workflow_name():
    assert names.node_id("demo-x7k2p", "demo-x7k2p") == "demo-x7k2p"


WF = "demo-x7k2p"
# The worked example of §2.5: name, id, displayName, boundary name.
DEMO = [
    (WF, WF, WF, None),
    (f"{WF}[0]", f"{WF}-3203355795", "[0]", WF),
    (f"{WF}[0].hello", f"{WF}-4190768701", "hello", WF),
    (f"{WF}[1]", f"{WF}-49413686", "[1]", WF),
    (f"{WF}[1].loop(0:a)", f"{WF}-2298460602", "loop(0:a)", WF),
    (f"{WF}[1].loop(1:b)", f"{WF}-3739833248", "loop(1:b)", WF),
    (f"{WF}.onExit", f"{WF}-1468038654", f"{WF}.onExit", None),
]


@pytest.mark.parametrize(("name", "expected_id", "shown", "boundary"), DEMO)
def test_demo_worked_example(name, expected_id, shown, boundary):
    assert names.node_id(WF, name) == expected_id
    assert names.display_name(name, boundary) == shown


def test_demo_names_are_built_by_the_helpers():
    group0 = names.step_group_name(WF, 0)
    assert group0 == f"{WF}[0]"
    assert names.step_node_name(group0, "hello") == f"{WF}[0].hello"
    group1 = names.step_group_name(WF, 1)
    assert names.item_node_name(names.step_node_name(group1, "loop"), 0, "a") == f"{WF}[1].loop(0:a)"
    assert names.item_node_name(names.step_node_name(group1, "loop"), 1, "b") == f"{WF}[1].loop(1:b)"
    assert names.on_exit_node_name(WF) == f"{WF}.onExit"


def test_demo_pod_names_v2():
    assert names.pod_name(WF, f"{WF}[0].hello", "say") == "demo-x7k2p-say-4190768701"
    assert names.pod_name(WF, f"{WF}[1].loop(0:a)", "say") == "demo-x7k2p-say-2298460602"
    assert names.pod_name(WF, f"{WF}.onExit", "notify") == "demo-x7k2p-notify-1468038654"
    assert names.agent_pod_name(WF) == "demo-x7k2p-1340600742-agent"


def test_pod_name_v1_is_the_node_id():
    assert names.pod_name(WF, f"{WF}[0].hello", "say", names.POD_NAME_V1) == f"{WF}-4190768701"


def test_pod_name_of_the_root_is_the_workflow_name():
    assert names.pod_name(WF, WF, "main") == WF


def test_pod_name_without_template_name_for_inline():
    assert names.pod_name(WF, f"{WF}[0].hello", "") == "demo-x7k2p-4190768701"
    assert names.pod_name(WF, f"{WF}[0].hello", None) == "demo-x7k2p-4190768701"


def test_pod_name_prefix_is_truncated_to_242():
    long_template = "t" * 300
    pod = names.pod_name(WF, f"{WF}[0].hello", long_template)
    prefix, _, digits = pod.rpartition("-")
    assert len(prefix) == 242
    assert digits == "4190768701"
    assert len(pod) <= 253


def test_task_result_name_is_the_node_id():
    assert names.task_result_name(WF, f"{WF}[0].hello") == f"{WF}-4190768701"


@pytest.mark.parametrize(
    ("item", "desc"),
    [
        ("a", "a"),
        (1, "1"),
        (1.0, "1"),
        (2.5, "2.5"),
        (True, "true"),
        ({"os": "debian", "version": 9}, "os:debian,version:9"),
        ({"b": "x", "a": "y"}, "a:y,b:x"),
        (["a", 1, True], "[a 1 true]"),
        ("f(x)", "fx"),
        ({"k": {"z": 1, "a": [1, 2]}}, 'k:{"a":[1,2],"z":1}'),
        # Go's encoding/json number forms: fixed notation in [1e-6, 1e21), short exponents outside
        (1e-05, "0.00001"),
        (1e-07, "1e-7"),
        (1.5e21, "1.5e+21"),
        ({"k": 1e-07}, "k:1e-7"),
    ],
)
def test_item_description(item, desc):
    assert names.item_description(item) == desc


def test_item_names_keep_the_index_recoverable():
    name = names.item_node_name("p.t", 12, "x(1):y")
    assert name == "p.t(12:x1:y)"
    assert names.recover_index(name) == 12
    assert names.recover_index("p.t") == -1


def test_all_situations_of_the_naming_table():
    assert names.task_node_name("wf.dag", "a") == "wf.dag.a"
    assert names.retry_attempt_name("wf[0].fail", 3) == "wf[0].fail(3)"
    assert names.container_node_name("wf.pod", "c1") == "wf.pod.c1"
    assert names.pod_node_name_of_container("wf.pod.c1") == "wf.pod"
    assert names.on_exit_node_name("wf[0].a") == "wf[0].a.onExit"
    assert names.hook_node_name("wf", "running") == "wf.hooks.running"
    assert names.hook_node_name("wf[0].a", "exit") == "wf[0].a.hooks.exit"


def test_display_name_for_dag_tasks_and_nested_boundaries():
    assert names.display_name("wf.dag.a", "wf.dag") == "a"
    assert names.display_name("wf.dag.a(0:x)", "wf.dag") == "a(0:x)"
    assert names.display_name("wf[0].inner[2]", "wf[0].inner") == "[2]"
    assert names.display_name("wf[0].inner[2].s", "wf[0].inner") == "s"
    assert names.display_name("wf[0].a.onExit", "wf") == "a.onExit"


def test_display_name_override():
    assert names.display_name("wf[0].a", "wf", "my-step") == "my-step"
    assert names.valid_display_name("my-step")
    assert not names.valid_display_name("-bad")


def test_ids_can_collide_as_in_argo():
    # fnv-1a 32 bits: among 10,000 loop items of one step, two names share an ID (Argo shares the node).
    a, b = "fan[0].work(6058:6058)", "fan[0].work(6496:6496)"
    assert names.node_id("fan", a) == names.node_id("fan", b)
