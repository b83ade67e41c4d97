"""Template resolution, Argo's spec merge, the templateReferencing allow-list and the expanded object."""

from __future__ import annotations

import yaml

from workflow import resolve
from workflow.check import CheckOptions, check_object, check_objects
from workflow.merge import apply_template_defaults, join_workflow_spec, strategic_merge
from workflow.resolve import Owner, ParseCache, Resolver
from workflow.resolve.restrictions import override_violations, sanitize_user_spec
from workflow.resolve.sources import ListSource, NoSource


def docs(text: str) -> list[dict]:
    return list(yaml.safe_load_all(text))


LIB = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib, namespace: team-a}
spec:
  templates:
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: busybox, args: ["{{inputs.parameters.msg}}"]}
  - name: twice
    steps:
    - - name: one
        template: echo
        arguments: {parameters: [{name: msg, value: one}]}
---
apiVersion: argoproj.io/v1alpha1
kind: ClusterWorkflowTemplate
metadata: {name: shared}
spec:
  templates:
  - name: noop
    container: {image: alpine}
"""


def lib_source() -> ListSource:
    return ListSource(docs(LIB))


# ---- resolution --------------------------------------------------------------------------------------


def test_holders_resolve_locally_and_through_template_refs():
    r = Resolver(lib_source(), "team-a")
    own = Owner("Workflow", "wf", "team-a", {"templates": [{"name": "main", "suspend": {}}]})
    local = r.resolve_holder({"template": "main"}, own, "spec.templates[0].steps[0][0]")
    assert local.template["name"] == "main" and local.path == "spec.templates[0]" and not local.message
    ref = r.resolve_holder({"templateRef": {"name": "lib", "template": "twice"}}, own, "x")
    assert ref.owner.label == 'WorkflowTemplate "lib"' and ref.path == "spec.templates[1]"
    assert ref.owner.stored_key("twice") == "namespaced/lib/twice"
    cluster = r.resolve_holder(
        {"templateRef": {"name": "shared", "template": "noop", "clusterScope": True}}, own, "x"
    )
    assert cluster.owner.stored_key("noop") == "cluster/shared/noop"
    # A template inside `lib` resolves its own local names in `lib`, not in the calling workflow.
    inner = r.resolve_holder({"template": "echo"}, ref.owner, "y")
    assert inner.owner is ref.owner and inner.template["container"]["image"] == "busybox"


def test_unresolvable_holders_say_why():
    r = Resolver(lib_source(), "team-a")
    own = Owner("Workflow", "wf", None, {"templates": []})
    cases = {
        "template name 'nope' undefined": {"template": "nope"},
        'workflowtemplates.argoproj.io "gone" not found': {"templateRef": {"name": "gone", "template": "x"}},
        "template reference lib.missing not found": {"templateRef": {"name": "lib", "template": "missing"}},
        "template name cannot be specified with templateRef": {
            "template": "a",
            "templateRef": {"name": "lib", "template": "echo"},
        },
        "resource name is required": {"templateRef": {"template": "echo"}},
    }
    for message, holder in cases.items():
        res = r.resolve_holder(holder, own, "h")
        assert res.template is None and res.message == message
    assert r.resolve_holder({"templateRef": {"name": "gone", "template": "x"}}, own, "h").missing
    assert not r.resolve_holder({"template": "nope"}, own, "h").missing
    dynamic = r.resolve_holder(
        {"templateRef": {"name": "{{inputs.parameters.t}}", "template": "x"}}, own, "h"
    )
    assert dynamic.dynamic and dynamic.message is None


def test_list_source_matches_namespaces_leniently():
    source = ListSource(
        docs(LIB)
        + docs("apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: bare}\nspec: {}\n")
    )
    assert source.workflow_template("team-a", "lib") is not None
    assert source.workflow_template("team-b", "lib") is None  # namespaced elsewhere
    assert source.workflow_template("team-b", "bare") is not None  # no namespace: any
    assert source.workflow_template(None, "lib") is not None
    assert source.cluster_workflow_template("shared") is not None
    assert NoSource().workflow_template("x", "lib") is None


def test_source_objects_are_parsed_once_per_resource_version(monkeypatch):
    calls = []
    real = resolve.parse_object
    monkeypatch.setattr(resolve, "parse_object", lambda doc: calls.append(doc) or real(doc))
    cache = ParseCache()
    doc = docs(LIB)[0]
    doc["metadata"]["resourceVersion"] = "7"
    for _ in range(3):
        Resolver(ListSource([doc]), "team-a", cache).owner(False, "lib")
    assert len(calls) == 1
    changed = {**doc, "metadata": {**doc["metadata"], "resourceVersion": "8"}}
    Resolver(ListSource([changed]), "team-a", cache).owner(False, "lib")
    assert len(calls) == 2


def test_a_referenced_template_that_does_not_parse_is_reported_at_the_reference():
    broken = LIB.replace("container: {image: alpine}", "contianer: {image: alpine}")
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        templateRef: {name: shared, template: noop, clusterScope: true}
""")
    report = check_objects(wf + docs(broken))[0]
    assert [(e.field, e.message.split(":")[0]) for e in report.errors if "is invalid" in e.message] == [
        ("spec.templates[0].steps[0][0]", 'ClusterWorkflowTemplate "shared" is invalid')
    ]


# ---- JoinWorkflowSpec -----------------------------------------------------------------------------------


def test_join_takes_the_workflow_over_the_template_over_defaults():
    wf = {
        "entrypoint": "b",
        "arguments": {"parameters": [{"name": "x", "value": "from-wf"}]},
        "nodeSelector": {"disk": "ssd"},
        "hooks": {"exit": {"template": "wf-exit"}},
    }
    wft = {
        "entrypoint": "a",
        "serviceAccountName": "wft-sa",
        "arguments": {
            "parameters": [
                {"name": "x", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
                {"name": "y", "value": "from-wft"},
            ]
        },
        "nodeSelector": {"zone": "a", "disk": "hdd"},
        "templates": [{"name": "a", "container": {"image": "busybox", "env": [{"name": "A", "value": "1"}]}}],
        "hooks": {
            "exit": {"template": "wft-exit", "arguments": {}},
            "running": {"template": "r", "expression": "true"},
        },
        "suspend": True,
    }
    defaults = {
        "activeDeadlineSeconds": 300,
        "serviceAccountName": "default-sa",
        "nodeSelector": {"pool": "p"},
    }
    merged = join_workflow_spec(wf, wft, defaults)
    assert merged["entrypoint"] == "b"
    assert merged["serviceAccountName"] == "wft-sa"
    assert merged["activeDeadlineSeconds"] == 300
    assert merged["nodeSelector"] == {"pool": "p", "zone": "a", "disk": "ssd"}
    assert merged["templates"] == wft["templates"]
    # The workflow's argument replaces the template's whole: no valueFrom left beside its value.
    assert merged["arguments"]["parameters"] == [
        {"name": "x", "value": "from-wf"},
        {"name": "y", "value": "from-wft"},
    ]
    # Hooks are taken whole by name, never merged inside.
    assert merged["hooks"]["exit"] == {"template": "wf-exit"}
    assert merged["hooks"]["running"]["template"] == "r"
    # suspend is always the workflow's.
    assert "suspend" not in merged
    assert wf == {**wf} and "zone" not in wf["nodeSelector"]  # inputs untouched


def test_strategic_merge_merges_lists_by_their_key_and_replaces_the_others():
    base = {
        "templates": [
            {"name": "a", "container": {"image": "x", "env": [{"name": "E", "value": "1"}], "args": ["1"]}}
        ]
    }
    over = {
        "templates": [
            {"name": "a", "container": {"env": [{"name": "F", "value": "2"}], "args": ["2"]}},
            {"name": "b", "suspend": {}},
        ]
    }
    merged = strategic_merge(base, over)
    a = merged["templates"][0]["container"]
    assert a["image"] == "x" and a["args"] == ["2"]
    assert [e["name"] for e in a["env"]] == ["E", "F"]
    assert [t["name"] for t in merged["templates"]] == ["a", "b"]


def test_template_defaults_go_under_the_template_and_keep_its_type():
    defaults = {
        "container": {"image": "busybox", "imagePullPolicy": "Always"},
        "timeout": "1h",
        "retryStrategy": {"limit": 1},
    }
    script = {"name": "s", "script": {"image": "python", "source": "print(1)"}, "timeout": "5m"}
    merged = apply_template_defaults(script, defaults)
    assert "container" not in merged and merged["timeout"] == "5m" and merged["retryStrategy"] == {"limit": 1}
    container = apply_template_defaults({"name": "c", "container": {"args": ["x"]}}, defaults)
    assert container["container"] == {"image": "busybox", "imagePullPolicy": "Always", "args": ["x"]}


# ---- templateReferencing (Strict / Secure) and the two 2026 advisories ---------------------------------

ADMIN_TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: audited}
spec:
  entrypoint: main
  serviceAccountName: restricted-sa
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  podSpecPatch: '{"containers": [{"name": "main", "resources": {"limits": {"memory": "1Gi"}}}]}'
  arguments: {parameters: [{name: target, value: staging}]}
  templates:
  - name: main
    container: {image: registry.corp/audit:1.0, command: [audit]}
"""


def user_workflow(extra: str) -> list[dict]:
    return docs(f"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: run-}}
spec:
  workflowTemplateRef: {{name: audited}}
  arguments: {{parameters: [{{name: target, value: prod}}]}}
{extra}
""") + docs(ADMIN_TEMPLATE)


def test_ghsa_3wf5_g532_rcrr_pod_spec_patch_cannot_override_the_admins_template():
    attack = (
        '  podSpecPatch: \'{"containers": [{"name": "main", "image": "evil:latest", "command": ["sh"]}]}\''
    )
    for mode in ("Strict", "Secure"):
        report = check_objects(user_workflow(attack), CheckOptions(template_referencing=mode))[0]
        assert [e.field for e in report.errors] == ["spec.podSpecPatch"]
        assert "not permitted when using workflowTemplateRef" in report.errors[0].message
        # Defence in depth: even the expanded object (what policies see) keeps the template's patch.
        assert "evil" not in report.expanded["spec"]["podSpecPatch"]
        assert (
            report.expanded["spec"]["podSpecPatch"] == yaml.safe_load(ADMIN_TEMPLATE)["spec"]["podSpecPatch"]
        )
        assert report.expanded["spec"]["arguments"]["parameters"] == [{"name": "target", "value": "prod"}]


def test_ghsa_3775_99mw_8rp4_host_network_service_account_and_security_context_stay_the_admins():
    attack = "\n".join(
        [
            "  hostNetwork: true",
            "  serviceAccountName: cluster-admin",
            "  securityContext: {runAsUser: 0, runAsNonRoot: false}",
            "  artifactGC: {strategy: OnWorkflowDeletion, serviceAccountName: cluster-admin, podSpecPatch: x}",
        ]
    )
    report = check_objects(user_workflow(attack), CheckOptions(template_referencing="Strict"))[0]
    assert sorted(e.field for e in report.errors) == [
        "spec.artifactGC.podSpecPatch",
        "spec.artifactGC.serviceAccountName",
        "spec.hostNetwork",
        "spec.securityContext",
        "spec.serviceAccountName",
    ]
    spec = report.expanded["spec"]
    assert "hostNetwork" not in spec
    assert spec["serviceAccountName"] == "restricted-sa"
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000}
    assert spec["artifactGC"] == {"strategy": "OnWorkflowDeletion"}


def test_the_allow_list_denies_fields_it_does_not_know_and_operators_can_only_widen_the_top_level():
    spec = {
        "workflowTemplateRef": {"name": "t"},
        "podResources": {"limits": {"cpu": "64"}},
        "artifactGC": {"serviceAccountName": "sa"},
        "entrypoint": "x",
        "podSpecPatch": "",
    }
    assert override_violations(spec) == ["artifactGC.serviceAccountName", "podResources"]
    widened = frozenset({"podResources", "serviceAccountName"})
    assert override_violations(spec, widened) == ["artifactGC.serviceAccountName"]
    assert sanitize_user_spec(spec, widened)["artifactGC"] == {}
    report = check_objects(
        user_workflow("  hostNetwork: true"),
        CheckOptions(template_referencing="Strict", user_override_allowlist=("hostNetwork",)),
    )[0]
    assert report.ok and report.expanded["spec"]["hostNetwork"] is True


def test_without_the_restriction_the_workflow_overrides_as_in_argo():
    report = check_objects(user_workflow("  serviceAccountName: mine"))[0]
    assert report.ok
    assert report.expanded["spec"]["serviceAccountName"] == "mine"


def test_strict_mode_rejects_workflows_without_a_reference_but_not_templates():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: direct}
spec:
  entrypoint: main
  templates: [{name: main, container: {image: busybox}}]
""")
    report = check_objects(wf + docs(ADMIN_TEMPLATE), CheckOptions(template_referencing="Strict"))
    assert [e.field for e in report[0].errors] == ["spec.workflowTemplateRef"]
    assert report[1].ok  # the WorkflowTemplate itself is the administrator's


# ---- the expanded object and its containers --------------------------------------------------------------


def test_expanded_object_stores_every_referenced_template_under_argos_keys():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf, namespace: team-a}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, templateRef: {name: lib, template: twice}}
      - {name: b, templateRef: {name: shared, template: noop, clusterScope: true}, depends: a}
""")
    report = check_objects(wf + docs(LIB))[0]
    assert report.ok, report.errors
    stored = report.expanded["status"]["storedTemplates"]
    # `twice` calls `echo` locally inside lib: that one is stored too, under lib's scope.
    assert set(stored) == {"namespaced/lib/twice", "namespaced/lib/echo", "cluster/shared/noop"}
    assert report.expanded["spec"] == wf[0]["spec"]  # holders are kept as written
    assert "status" not in wf[0]


def test_containers_lists_every_container_with_template_and_role_after_defaults():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templateDefaults:
    container: {imagePullPolicy: IfNotPresent, resources: {limits: {memory: 64Mi}}}
  templates:
  - name: main
    steps:
    - - {name: a, template: build}
      - {name: b, template: set}
      - name: c
        inline: {script: {image: python:3, source: "print(1)"}}
  - name: build
    initContainers: [{name: fetch, image: alpine/git}]
    sidecars: [{name: cache, image: redis}]
    container: {name: ignored, image: golang:1.22}
  - name: set
    containerSet:
      containers: [{name: main, image: busybox}, {name: other, image: busybox}]
""")
    report = check_object(wf[0], NoSource())
    assert report.ok, report.errors
    found = {(c["template"], c["role"], c["name"], c["image"]) for c in report.containers}
    assert found == {
        ("build", "init", "fetch", "alpine/git"),
        ("build", "main", "main", "golang:1.22"),
        ("build", "sidecar", "cache", "redis"),
        ("set", "main", "main", "busybox"),
        ("set", "main", "other", "busybox"),
        ("", "main", "main", "python:3"),
    }
    build_main = next(c for c in report.containers if c["template"] == "build" and c["role"] == "main")
    assert (
        build_main["imagePullPolicy"] == "IfNotPresent"
        and build_main["resources"]["limits"]["memory"] == "64Mi"
    )
    assert build_main["path"] == "spec.templates[1].container"
    script = next(c for c in report.containers if c["image"] == "python:3")
    assert script["path"] == "spec.templates[0].steps[0][2].inline.script" and "imagePullPolicy" not in script


def test_containers_of_a_hidden_template_reference_are_listed():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf, namespace: team-a}
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: a, templateRef: {name: lib, template: twice}}]]
""")
    report = check_objects(wf + docs(LIB))[0]
    assert [(c["template"], c["image"], c["path"]) for c in report.containers] == [
        ("echo", "busybox", "WorkflowTemplate/lib:spec.templates[0].container")
    ]


def test_a_missing_reference_is_a_warning_at_admission_and_an_error_otherwise():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  workflowTemplateRef: {name: synced-later}
""")[0]
    strict = check_object(wf, NoSource())
    assert [(e.field, e.message) for e in strict.errors] == [
        ("spec.workflowTemplateRef.name", 'workflowtemplates.argoproj.io "synced-later" not found')
    ]
    lenient = check_object(wf, NoSource(), CheckOptions(missing_reference_is_warning=True))
    assert lenient.ok and [w.field for w in lenient.warnings] == ["spec.workflowTemplateRef.name"]


def test_problems_of_a_workflow_template_ref_are_reported_where_a_person_can_act():
    result = check_objects(
        docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: run-}
spec:
  workflowTemplateRef: {name: base}
  entrypoint: nope
  hooks:
    running: {template: main}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: base}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {command: [echo]}
""")
    )[0]
    assert [(e.field, e.message) for e in result.errors] == [
        ("spec.entrypoint", "the entrypoint: template name 'nope' undefined (available: main)"),
        ("spec.hooks[running].expression", "the workflow: hooks.running Expression required"),
        (
            "spec.workflowTemplateRef",
            'WorkflowTemplate "base": spec.templates[0].container.image: template "main": container.image may not be empty',
        ),
    ]


def test_expand_object_without_validation_matches_the_checked_expansion():
    from workflow.expand import expand_object

    objects = user_workflow("  serviceAccountName: mine")
    source = ListSource(objects)
    assert expand_object(objects[0], source) == check_object(objects[0], source).expanded
    restricted = expand_object(objects[0], source, template_referencing="Strict")
    assert restricted["spec"]["serviceAccountName"] == "restricted-sa"
    assert expand_object({"kind": "Workflow", "spec": "not a spec"}, source) == {
        "kind": "Workflow",
        "spec": "not a spec",
    }


def test_a_missing_template_ref_in_a_step_is_also_only_a_warning_at_admission():
    wf = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: a, templateRef: {name: later, template: t}}, {name: b, template: nope}]]
""")[0]
    report = check_object(wf, NoSource(), CheckOptions(missing_reference_is_warning=True))
    assert [w.field for w in report.warnings] == ["spec.templates[0].steps[0][0].templateRef.name"]
    # A local template name is never "synced later": it stays an error.
    assert [e.field for e in report.errors] == ["spec.templates[0].steps[0][1].template"]


def test_a_missing_workflow_template_ref_with_an_entrypoint_is_only_a_warning_at_admission(argo_examples):
    # Issue 14: Argo's workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml, exactly.
    path = argo_examples / "workflow-template" / "workflow-template-ref-with-entrypoint-arg-passing.yaml"
    wf = yaml.safe_load(path.read_text())
    lenient = check_object(wf, NoSource(), CheckOptions(missing_reference_is_warning=True))
    assert lenient.ok, [(e.field, e.message) for e in lenient.errors]
    assert [(w.field, w.message) for w in lenient.warnings] == [
        (
            "spec.workflowTemplateRef.name",
            'workflowtemplates.argoproj.io "workflow-template-print-message" not found',
        )
    ]
    # Outside admission the absence is one error, at the reference, not a second one at the entrypoint.
    strict = check_object(wf, NoSource())
    assert [e.field for e in strict.errors] == ["spec.workflowTemplateRef.name"]


def test_a_shared_expansion_equals_the_copied_one_and_leaves_its_inputs_alone(argo_examples):
    """Issue 15: the webhook asks for the expanded object without a deep copy (CheckOptions.share_expanded);
    it is the same object, and the inputs it shares with are not modified."""
    import copy

    texts = [p.read_text() for p in sorted(argo_examples.glob("*.yaml"))] + [LIB]
    all_docs = [d for text in texts for d in _safe_docs(text) if isinstance(d, dict)]
    all_docs += [
        {**d, "kind": "CronWorkflow", "spec": {"schedule": "* * * * *", "workflowSpec": d["spec"]}}
        for d in all_docs
        if d.get("kind") == "Workflow" and isinstance(d.get("spec"), dict)
    ]
    source = ListSource([copy.deepcopy(d) for d in all_docs])
    before = copy.deepcopy(all_docs)
    expanded = 0
    for doc in all_docs:
        copied = check_object(doc, source, CheckOptions(missing_reference_is_warning=True))
        sharing = CheckOptions(missing_reference_is_warning=True, share_expanded=True)
        shared = check_object(doc, source, sharing)
        assert shared.expanded == copied.expanded
        assert (shared.errors, shared.warnings, shared.containers) == (
            copied.errors,
            copied.warnings,
            copied.containers,
        )
        expanded += shared.expanded is not None
    assert all_docs == before
    assert expanded > 200


def _safe_docs(text: str) -> list:
    try:
        return docs(text)
    except yaml.YAMLError:
        return []
