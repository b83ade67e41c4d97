"""Admission of Argo v3 spellings with the real core check: allowed with a warning at the path the user
wrote, errors at that path too, policies see the normalised (v4) form, and the mutating patch never
rewrites the v3 field (docs/architecture.md, contract 8;
workflow/parse/normalise.py)."""

from __future__ import annotations

from webhook.admission import Admission, DefaultsHolder
from webhook.defaults import WorkflowDefaults
from webhook.policy.cel import CelPython
from webhook.policy.engine import PolicySet
from webhook.review import AdmissionRequest
from webhook.sources import TemplateStore


def request(obj, operation="CREATE"):
    return AdmissionRequest(
        api_version="admission.k8s.io/v1", uid="uid-1", group="argoproj.io", version="v1alpha1", kind="Workflow",
        operation=operation, namespace="team-a", name="wf", object=obj, old_object=None,
        user_info={"username": "alice"}, dry_run=False,
    )  # fmt: skip


def v3_workflow(mutex):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf"},
        "spec": {
            "entrypoint": "main",
            "synchronization": {"mutex": mutex},
            "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
        },
    }


def admission(*policies):
    ps = PolicySet(CelPython())
    for policy in policies:
        assert ps.load(policy) == []
    defaults = DefaultsHolder(WorkflowDefaults(spec={"synchronization": {"mutexes": [{"name": "default"}]}}))
    return Admission(source=TemplateStore(), policies=ps, defaults=defaults)


def test_a_v3_mutex_is_allowed_with_a_warning_where_it_was_written():
    verdict = admission().validate(request(v3_workflow({"name": "m"})))
    assert verdict.allowed
    assert any("spec.synchronization.mutex" in w and "mutexes" in w for w in verdict.warnings)


def test_an_invalid_v3_mutex_is_denied_at_the_path_the_user_wrote():
    verdict = admission().validate(request(v3_workflow({})))
    assert not verdict.allowed
    causes = verdict.status["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.synchronization.mutex.name"]


def test_policies_see_the_lock_in_its_v4_spelling():
    policy = {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": "no-shared-locks"},
        "spec": {
            "validations": [
                {
                    "expression": "!has(expanded.spec.synchronization) || !has(expanded.spec.synchronization.mutexes)",
                    "message": "workflow-level locks are reserved",
                }
            ]
        },
    }
    verdict = admission(policy).validate(request(v3_workflow({"name": "m"})))
    assert not verdict.allowed
    assert "workflow-level locks are reserved" in str(verdict.status)


def test_the_patch_adds_only_absent_fields_and_never_the_default_lock_beside_a_v3_one():
    verdict = admission().mutate(request(v3_workflow({"name": "m"})))
    assert all(not op["path"].startswith("/spec/synchronization") for op in verdict.patch or [])
