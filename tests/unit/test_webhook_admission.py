"""Admission decisions as plain functions, with a table-driven stand-in for the core's check so the
shaping (Status, causes, warnings, policies, update rules) is tested on its own."""

from __future__ import annotations

import copy

from webhook.admission import Admission
from webhook.policy.cel import CelPython
from webhook.policy.engine import PolicySet
from webhook.review import AdmissionRequest
from webhook.sources import TemplateStore
from workflow.check import CheckReport
from workflow.errors import Problem


def request(obj, *, kind="Workflow", group="argoproj.io", operation="CREATE", old=None, user="alice"):
    return AdmissionRequest(
        api_version="admission.k8s.io/v1",
        uid="uid-1",
        group=group,
        version="v1alpha1",
        kind=kind,
        operation=operation,
        namespace="team-a",
        name=(obj or {}).get("metadata", {}).get("name"),
        object=obj,
        old_object=old,
        user_info={"username": user},
        dry_run=False,
    )


class FakeCheck:
    """Returns a fixed report and remembers what it was asked."""

    def __init__(self, errors=(), warnings=(), containers=(), expanded=None, boom=False):
        self.report = CheckReport(
            "Workflow", "wf", "team-a", list(errors), list(warnings), expanded, list(containers)
        )
        self.calls = 0
        self.boom = boom

    def __call__(self, doc, source, options):
        self.calls += 1
        assert options.missing_reference_is_warning is True
        if self.boom:
            raise RuntimeError("bug in the core")
        self.report.expanded = self.report.expanded or doc
        return self.report


def admission(check, *policies):
    ps = PolicySet(CelPython())
    for p in policies:
        assert ps.load(p) == []
    return Admission(source=TemplateStore(), policies=ps, checker=check)


def wf(**spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf"},
        "spec": {"entrypoint": "main", **spec},
    }


def rule_policy(name, expression, action="Deny", message=None, **match):
    rule = {"expression": expression, "action": action}
    if message:
        rule["message"] = message
    spec = {"validations": [rule]}
    if match:
        spec["match"] = match
    return {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_errors_become_a_422_with_one_cause_per_problem_and_warnings_stay_warnings():
    check = FakeCheck(
        errors=[
            Problem("spec.templates[0].dag.tasks[1].dependencies", 'task "x" does not exist'),
            Problem("spec.entrypoint", 'template "nope" does not exist'),
        ],
        warnings=[Problem("spec.templates[0].dag.tasks[0].templateRef", 'WorkflowTemplate "lib" not found')],
    )
    verdict = admission(check).validate(request(wf()))
    assert verdict.allowed is False and verdict.reason == "invalid"
    st = verdict.status
    assert (st["code"], st["reason"], st["status"]) == (422, "Invalid", "Failure")
    assert st["details"]["causes"] == [
        {
            "type": "FieldValueInvalid",
            "field": "spec.templates[0].dag.tasks[1].dependencies",
            "message": 'task "x" does not exist',
        },
        {
            "type": "FieldValueInvalid",
            "field": "spec.entrypoint",
            "message": 'template "nope" does not exist',
        },
    ]
    assert st["message"].startswith('Workflow "wf" is invalid (2 problems): spec.templates[0]')
    assert verdict.warnings == [
        'spec.templates[0].dag.tasks[0].templateRef: WorkflowTemplate "lib" not found'
    ]


def test_a_valid_object_is_allowed_with_its_warnings():
    check = FakeCheck(warnings=[Problem("spec.x", "w")])
    verdict = admission(check).validate(request(wf()))
    assert (verdict.allowed, verdict.status, verdict.warnings) == (True, None, ["spec.x: w"])


def test_a_bug_in_the_check_is_a_denial_with_code_500_not_a_crash():
    verdict = admission(FakeCheck(boom=True)).validate(request(wf()))
    assert verdict.allowed is False
    assert (verdict.status["code"], verdict.status["reason"]) == (500, "InternalError")
    assert "uid-1" in verdict.status["message"]


def test_policies_see_containers_of_the_expanded_object_and_act_by_action():
    containers = [{"template": "lib/build", "role": "main", "name": "main", "image": "docker.io/evil"}]
    check = FakeCheck(containers=containers)
    a = admission(
        check,
        rule_policy(
            "registries",
            "containers.all(c, c.image.startsWith('registry.corp/'))",
            message="images must come from registry.corp/",
        ),
        rule_policy("warn-me", "size(containers) == 0", action="Warn", message="has containers"),
        rule_policy("audit-me", "false", action="Audit", message="seen"),
    )
    verdict = a.validate(request(wf()))
    assert verdict.allowed is False and verdict.reason == "policy"
    assert verdict.status["details"]["causes"] == [
        {
            "type": "FieldValueInvalid",
            "field": "",
            "message": "policy registries: images must come from registry.corp/",
        }
    ]
    assert verdict.warnings == ["policy warn-me: has containers"]
    assert verdict.audit == {"policy-audit-me-0": "seen"}
    assert sorted(verdict.violations) == [("audit-me", "Audit"), ("registries", "Deny"), ("warn-me", "Warn")]


def test_policies_match_by_namespace_labels_and_kind():
    deny = dict(expression="false", message="no")
    a = admission(
        FakeCheck(),
        rule_policy("other-ns", **deny, namespaces=["team-b"]),
        rule_policy("excluded", **deny, excludeNamespaces=["team-a"]),
        rule_policy("needs-label", **deny, objectSelector={"matchLabels": {"tier": "prod"}}),
        rule_policy("crons-only", **deny, kinds=["CronWorkflow"]),
    )
    assert a.validate(request(wf())).allowed is True
    labelled = wf()
    labelled["metadata"]["labels"] = {"tier": "prod"}
    verdict = a.validate(request(labelled))
    assert verdict.allowed is False
    assert [c["message"] for c in verdict.status["details"]["causes"]] == ["policy needs-label: no"]


def test_message_expression_and_request_variable():
    a = admission(
        FakeCheck(),
        {
            "apiVersion": "sluice.dev/v1alpha1",
            "kind": "WorkflowPolicy",
            "metadata": {"name": "who"},
            "spec": {
                "validations": [
                    {
                        "expression": "request.userInfo.username != 'mallory'",
                        "messageExpression": "'user ' + request.userInfo.username + ' may not ' + request.operation",
                    }
                ]
            },
        },
    )
    assert a.validate(request(wf(), user="alice")).allowed is True
    verdict = a.validate(request(wf(), user="mallory"))
    assert verdict.status["details"]["causes"][0]["message"] == "policy who: user mallory may not CREATE"


def test_a_rule_that_errors_denies_unless_the_policy_ignores_failures():
    broken = rule_policy("broken", "object.spec.nope == 1")
    ignored = copy.deepcopy(broken)
    ignored["metadata"]["name"] = "ignored"
    ignored["spec"]["failurePolicy"] = "Ignore"
    verdict = admission(FakeCheck(), broken, ignored).validate(request(wf()))
    causes = verdict.status["details"]["causes"]
    assert len(causes) == 1 and causes[0]["message"].startswith("policy broken: rule 0 evaluation failed")
    non_bool = admission(FakeCheck(), rule_policy("nb", "'yes'")).validate(request(wf()))
    assert "must evaluate to a bool" in non_bool.status["details"]["causes"][0]["message"]


def test_updates_that_only_touch_metadata_or_delete_are_not_rechecked():
    check = FakeCheck(errors=[Problem("spec", "bad")])
    a = admission(check)
    old = wf()
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"a": "b"}
    assert a.validate(request(new, operation="UPDATE", old=old)).allowed is True
    deleting = copy.deepcopy(new)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    deleting["spec"]["entrypoint"] = "changed"
    assert a.validate(request(deleting, operation="UPDATE", old=old)).allowed is True
    assert a.validate(request(None, operation="DELETE", old=old)).allowed is True
    assert check.calls == 0
    changed = copy.deepcopy(old)
    changed["spec"]["entrypoint"] = "other"
    assert a.validate(request(changed, operation="UPDATE", old=old)).allowed is False
    assert check.calls == 1


def test_running_workflow_updates():
    a = admission(FakeCheck())
    old = wf(templates=[{"name": "main", "suspend": {}}], parallelism=2)
    old["status"] = {"phase": "Running"}
    ok = copy.deepcopy(old)
    ok["spec"].update(suspend=True, shutdown="Terminate", activeDeadlineSeconds=0)
    assert a.validate(request(ok, operation="UPDATE", old=old)).allowed is True
    bad = copy.deepcopy(old)
    del bad["spec"]["parallelism"]
    bad["spec"]["arguments"] = {"parameters": [{"name": "p", "value": "1"}]}
    verdict = a.validate(request(bad, operation="UPDATE", old=old))
    assert verdict.reason == "immutable"
    assert [c["field"] for c in verdict.status["details"]["causes"]] == ["spec.arguments", "spec.parallelism"]
    finished = copy.deepcopy(old)
    finished["status"]["phase"] = "Succeeded"
    # Not running: an ordinary UPDATE, checked in full (the fake check passes it).
    assert a.validate(request(bad, operation="UPDATE", old=finished)).allowed is True


def test_a_cluster_scoped_template_matches_only_policies_without_namespaces():
    a = admission(FakeCheck(), rule_policy("ns", "false", namespaces=["team-a"]), rule_policy("all", "false"))
    req = request(wf(), kind="ClusterWorkflowTemplate")
    req.namespace = None
    causes = a.validate(req).status["details"]["causes"]
    assert [c["message"] for c in causes] == ["policy all: failed expression: false"]


def test_check_results_are_cached_by_content_until_a_template_changes():
    from webhook.check_cache import CheckCache

    check = FakeCheck(warnings=[Problem("spec.x", "w")])
    store = TemplateStore()
    a = Admission(source=store, policies=PolicySet(CelPython()), checker=check, cache=CheckCache(2))
    assert a.validate(request(wf())).warnings == ["spec.x: w"]
    assert a.validate(request(wf())).warnings == ["spec.x: w"]
    assert check.calls == 1 and a.cache.hits == 1
    store.put({"kind": "WorkflowTemplate", "metadata": {"name": "lib", "namespace": "team-a"}, "spec": {}})
    a.validate(request(wf()))
    assert check.calls == 2  # a template changed: checked again
    a.validate(request(wf(parallelism=1)))
    a.validate(request(wf(parallelism=2)))
    a.validate(request(wf()))  # evicted (size 2)
    assert check.calls == 5


def test_policies_are_evaluated_even_on_a_cache_hit():
    from webhook.check_cache import CheckCache

    a = admission(FakeCheck(), rule_policy("who", "request.userInfo.username != 'mallory'"))
    a.cache = CheckCache()
    assert a.validate(request(wf(), user="alice")).allowed is True
    assert a.validate(request(wf(), user="mallory")).allowed is False


def test_the_cache_is_bounded_in_bytes_too():
    from webhook.check_cache import CheckCache

    expanded = {"spec": {"templates": [{"name": "main", "args": ["x" * 1_500]}]}}
    report = CheckReport("Workflow", "w", None, expanded=expanded)
    one = CheckCache(max_bytes=1 << 20).put(b"k", report)
    assert one is not None and 1_500 < one.size < 3_000
    cache = CheckCache(size=100, max_bytes=5 * one.size)
    for i in range(10):
        cache.put(bytes([i]), report)
    assert len(cache) == 5 and cache.bytes <= cache.max_bytes
    assert cache.get(bytes([9])) is not None and cache.get(bytes([0])) is None
    big = CheckReport("Workflow", "w", None, expanded={"spec": {"x": "y" * (2 * one.size)}})
    assert cache.put(b"huge", big) is None  # over a quarter of the budget: not kept
    assert cache.get(b"huge") is None


def test_the_cache_keeps_reports_packed_and_gives_them_back_unchanged():
    """A kept report is msgpack bytes: what it keeps alive is their length (issue 13 item 3 counted the
    Python objects, ~20x the JSON; issue 15: that walk cost ~2 ms per miss), and it comes back equal."""
    import json
    import sys

    from webhook.check_cache import CheckCache

    items = [{"a": i, "b": [1.5, None, True, "\u00e9"]} for i in range(10_000)]
    expanded = {"spec": {"templates": [{"name": "main", "steps": [[{"name": "s", "withItems": items}]]}]}}
    containers = [{"name": "main", "image": "busybox", "template": "main", "role": "main", "path": "p"}]
    report = CheckReport(
        "Workflow", "w", "ns", [Problem("spec.a", "e")], [Problem("", "w")], expanded, containers
    )
    cache = CheckCache(max_bytes=1 << 30)
    kept = cache.put(b"k", report)
    assert kept is not None and kept.size < len(json.dumps(expanded)) < sum(map(sys.getsizeof, items))
    back = cache.get(b"k")
    assert back is kept
    restored = back.report()
    assert (restored.kind, restored.name, restored.namespace) == ("Workflow", "w", "ns")
    assert restored.skipped is False
    assert restored.errors == report.errors and restored.warnings == report.warnings
    assert restored.containers == containers and restored.expanded is None
    source = back.expanded_source()
    assert source is not None and source() == expanded and source() is not source()  # a fresh copy each time
    small = CheckCache(max_bytes=4 * kept.size - 4)  # over a quarter of the budget: not kept
    assert small.put(b"k", report) is None and small.get(b"k") is None
    no_expansion = cache.put(b"n", CheckReport("Workflow", "w", None, [Problem("kind", "bad")]))
    assert no_expansion is not None and no_expansion.expanded_source() is None


def test_a_report_msgpack_cannot_hold_is_not_kept():
    from webhook.check_cache import CheckCache

    cache = CheckCache()
    assert cache.put(b"k", CheckReport("Workflow", "w", None, expanded={"n": 2**70})) is None
    assert cache.put(b"s", CheckReport("Workflow", "w", None, expanded={"s": "\ud800"})) is None
    assert len(cache) == 0 and cache.bytes == 0


def test_a_cache_hit_decodes_the_expanded_object_only_for_rules_that_read_it():
    from webhook.check_cache import CheckCache

    expanded = {"spec": {"templates": [{"name": "main", "container": {"image": "x"}}]}, "kind": "Workflow"}
    check = FakeCheck(expanded=expanded)
    reads_object = admission(check, rule_policy("obj", "has(object.metadata)"))
    reads_expanded = admission(check, rule_policy("exp", "templates.exists(t, t.name == 'main')"))
    for a in (reads_object, reads_expanded):
        a.cache = CheckCache()
        assert a.validate(request(wf())).allowed is True
        assert a.validate(request(wf())).allowed is True
        assert a.cache.hits == 1
    decoded = []
    kept = reads_object.cache.get(next(iter(reads_object.cache._items)))
    assert kept is not None
    source = kept.expanded_source()
    assert source is not None

    def counted():
        decoded.append(1)
        return source()

    report = kept.report()
    reads_object.evaluate_policies(request(wf()), report, counted)
    assert decoded == []
    reads_expanded.evaluate_policies(request(wf()), report, counted)
    assert decoded == [1]


def test_updates_of_a_running_workflow_are_validated_and_policed_like_a_create():
    """Issue 13 item 6: on a running workflow, allowed-to-change fields were not checked at all."""
    from workflow.check import check_object

    cap = rule_policy(
        "deadline", "!has(object.spec.activeDeadlineSeconds) || object.spec.activeDeadlineSeconds <= 3600"
    )
    ps = PolicySet(CelPython())
    assert ps.load(cap) == []
    a = Admission(source=TemplateStore(), policies=ps, checker=check_object)
    old = wf(templates=[{"name": "main", "container": {"image": "alpine", "command": ["true"]}}])
    old["status"] = {"phase": "Running"}
    for field, value, message in [
        ("shutdown", "Nonsense", "shutdown"),
        ("activeDeadlineSeconds", {"a": [1, 2]}, "activeDeadlineSeconds"),
        ("suspend", "yes", "suspend"),
        ("activeDeadlineSeconds", 86400, "policy deadline"),
    ]:
        new = copy.deepcopy(old)
        new["spec"][field] = value
        verdict = a.validate(request(new, operation="UPDATE", old=old))
        assert verdict.allowed is False, (field, value)
        assert any(
            message in c["message"] or message in c.get("field", "")
            for c in verdict.status["details"]["causes"]
        )
    fine = copy.deepcopy(old)
    fine["spec"].update(shutdown="Stop", activeDeadlineSeconds=60, suspend=True)
    assert a.validate(request(fine, operation="UPDATE", old=old)).allowed is True
    only_labels = copy.deepcopy(old)
    only_labels["metadata"]["labels"] = {"x": "y"}
    assert a.validate(request(only_labels, operation="UPDATE", old=old)).reason == "metadata-only"
    # Stopping is never refused, even when a policy added later would deny the workflow as it stands.
    over = copy.deepcopy(old)
    over["spec"]["activeDeadlineSeconds"] = 86400
    stop = copy.deepcopy(over)
    stop["spec"]["shutdown"] = "Terminate"
    assert a.validate(request(stop, operation="UPDATE", old=over)).allowed is True


def test_creator_labels_may_not_change_on_update():
    a = admission(FakeCheck())
    old = wf()
    old["metadata"]["labels"] = {"workflows.argoproj.io/creator": "alice"}
    new = copy.deepcopy(old)
    new["metadata"]["labels"]["workflows.argoproj.io/creator"] = "system-admin"
    verdict = a.validate(request(new, operation="UPDATE", old=old, user="mallory"))
    assert verdict.allowed is False
    assert verdict.status["details"]["causes"][0]["field"] == "metadata.labels[workflows.argoproj.io/creator]"
    other = copy.deepcopy(old)
    other["metadata"]["labels"]["team"] = "a"
    assert a.validate(request(other, operation="UPDATE", old=old)).allowed is True


def test_a_workflow_whose_template_is_not_synced_yet_is_allowed_with_a_warning(argo_examples):
    # Issue 14: Argo's workflow-template-ref-with-entrypoint-arg-passing.yaml, with the real core check
    # (Argo CD may sync the Workflow before its WorkflowTemplate): allowed, the absence a warning.
    import yaml

    path = argo_examples / "workflow-template" / "workflow-template-ref-with-entrypoint-arg-passing.yaml"
    obj = yaml.safe_load(path.read_text())
    verdict = Admission(source=TemplateStore(), policies=PolicySet(CelPython())).validate(request(obj))
    assert verdict.allowed, verdict
    assert any("workflow-template-print-message" in w and "not found" in w for w in verdict.warnings)
