"""The CRDs in crds/: up to date with tools/gen_crds.py, structural, and pruning nothing Argo's examples use.

The pruning check here walks each example against the schema the way the API server's structural
pruning does (unknown fields of an object without x-kubernetes-preserve-unknown-fields are dropped,
types are checked). The e2e tier proves the same on the real API server
(tests/e2e/test_crd_roundtrip.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KINDS = {
    "Workflow": "workflows.argoproj.io",
    "WorkflowTemplate": "workflowtemplates.argoproj.io",
    "ClusterWorkflowTemplate": "clusterworkflowtemplates.argoproj.io",
    "CronWorkflow": "cronworkflows.argoproj.io",
    "WorkflowTaskResult": "workflowtaskresults.argoproj.io",
    "WorkflowPolicy": "workflowpolicies.sluice.dev",
}


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_crds", REPO / "tools" / "gen_crds.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_crds"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def crds() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        doc = yaml.load(path.read_text(), Loader=LOADER)
        found[doc["metadata"]["name"]] = doc
    return found


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


# --- freshness ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    gen = load_generator()
    return gen, gen.render()


def test_crds_are_up_to_date_with_the_generator(generated):
    _, files = generated
    stale = (
        [name for name, text in files.items() if (CRDS / name).read_text() != text]
        if CRDS.is_dir()
        else ["*"]
    )
    assert not stale, f"crds/ is out of date ({stale}): run .venv/bin/python tools/gen_crds.py"
    on_disk = {p.name for p in CRDS.iterdir() if p.is_file()}
    assert on_disk == set(files), (
        f"files in crds/ the generator does not write: {sorted(on_disk - set(files))}"
    )


def test_check_mode_reports_a_stale_file(generated, tmp_path, monkeypatch):
    gen, files = generated
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(gen, "CRDS", tmp_path)
    monkeypatch.setattr(gen, "render", lambda: files)
    assert gen.main(["--check"]) == 0
    (tmp_path / "workflows.argoproj.io.yaml").write_text("# edited by hand\n")
    assert gen.main(["--check"]) == 1
    (tmp_path / "stray.yaml").write_text("{}\n")
    (tmp_path / "workflows.argoproj.io.yaml").unlink()
    assert gen.main(["--check"]) == 1


def test_every_crd_is_listed_in_the_kustomization(crds):
    kustomization = yaml.safe_load((CRDS / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(f"{name}.yaml" for name in crds)
    assert set(crds) == set(KINDS.values())


# --- names, scope, subresources, columns ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scope", "short", "status"),
    [
        ("workflows.argoproj.io", "Namespaced", ["wf"], True),
        ("workflowtemplates.argoproj.io", "Namespaced", ["wftmpl"], False),
        ("clusterworkflowtemplates.argoproj.io", "Cluster", ["clusterwftmpl", "cwft"], False),
        ("cronworkflows.argoproj.io", "Namespaced", ["cwf", "cronwf"], True),
        ("workflowtaskresults.argoproj.io", "Namespaced", None, False),
        ("workflowpolicies.sluice.dev", "Cluster", ["wfpol"], True),
    ],
)
def test_names_scope_and_status_subresource(crds, name, scope, short, status):
    crd = crds[name]
    spec = crd["spec"]
    assert spec["scope"] == scope
    assert spec["names"].get("shortNames") == short
    assert spec["names"]["plural"] + "." + spec["group"] == name
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert ("status" in version.get("subresources", {})) is status
    assert crd["metadata"]["labels"]["app.kubernetes.io/part-of"] == "sluice"


def test_workflow_printer_columns_are_argos(crds):
    (version,) = crds["workflows.argoproj.io"]["spec"]["versions"]
    columns = [(c["name"], c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("Status", "string", ".status.phase"),
        ("Age", "date", ".status.startedAt"),
        ("Message", "string", ".status.message"),
    ]


def test_every_custom_printer_column_list_keeps_an_age(crds):
    for name, crd in crds.items():
        (version,) = crd["spec"]["versions"]
        columns = version.get("additionalPrinterColumns")
        if columns:
            assert "Age" in [c["name"] for c in columns], name


# --- structural -----------------------------------------------------------------------------------


def structural_problems(node: Any, path: str, root: bool = False) -> list[str]:
    """What the API server's structural-schema check would refuse (the rules this generator can break)."""
    problems = []
    if not isinstance(node, dict):
        return [f"{path}: not a schema"]
    for key in ("$ref", "definitions", "$defs", "oneOf", "not", "default", "nullable"):
        if key in node:
            problems.append(f"{path}: has {key}")
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    kind = node.get("type")
    if kind is None and not (preserve or int_or_string):
        problems.append(f"{path}: no type")
    if int_or_string and kind is not None:
        problems.append(f"{path}: int-or-string with a type")
    if "anyOf" in node and not int_or_string:
        problems.append(f"{path}: anyOf")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: both properties and additionalProperties")
    if kind == "array" and "items" not in node:
        problems.append(f"{path}: array without items")
    for name, sub in node.get("properties", {}).items():
        problems += structural_problems(sub, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        problems += structural_problems(node["additionalProperties"], f"{path}{{}}")
    if "items" in node:
        problems += structural_problems(node["items"], f"{path}[]")
    if root and node["properties"].get("metadata") != {"type": "object"}:
        problems.append(f"{path}.metadata: the root metadata must be only type: object")
    return problems


def test_schemas_are_structural(crds):
    for name, crd in crds.items():
        assert structural_problems(schema_of(crd), name, root=True) == []


def test_structural_check_catches_what_it_claims():
    bad = {"type": "object", "properties": {"metadata": {"type": "object"}, "a": {"description": "no type"}}}
    assert structural_problems(bad, "x", root=True) == ["x.a: no type"]
    bad = {"type": "object", "properties": {"metadata": {"type": "object"}, "b": {"$ref": "#/x"}}}
    assert "x.b: has $ref" in structural_problems(bad, "x", root=True)


def test_recursion_stops_at_inline_templates_as_free_objects(crds):
    template = schema_of(crds["workflows.argoproj.io"])["properties"]["spec"]["properties"]["templates"][
        "items"
    ]
    step = template["properties"]["steps"]["items"]["items"]
    assert step["type"] == "object"
    # a Template inside a Template is free-form, as in Argo's CRDs (the webhook validates it)
    free = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    inline = {k: v for k, v in step["properties"]["inline"].items() if k != "description"}
    assert inline == free
    task = template["properties"]["dag"]["properties"]["tasks"]["items"]
    assert {k: v for k, v in task["properties"]["inline"].items() if k != "description"} == free


def test_kubernetes_core_types_come_from_the_kubernetes_schema(crds):
    """Container is Kubernetes' Container (fields and their descriptions), not a free-form object."""
    template = schema_of(crds["workflows.argoproj.io"])["properties"]["spec"]["properties"]["templates"][
        "items"
    ]
    container = template["properties"]["container"]
    for field in ("image", "command", "args", "env", "resources", "volumeMounts", "securityContext"):
        assert field in container["properties"], field
    assert "List of environment variables" in container["properties"]["env"]["description"]
    port = container["properties"]["livenessProbe"]["properties"]["httpGet"]["properties"]["port"]
    assert port == {"x-kubernetes-int-or-string": True}
    limits = container["properties"]["resources"]["properties"]["limits"]
    assert limits["type"] == "object"
    assert limits["additionalProperties"] == {"x-kubernetes-preserve-unknown-fields": True}


def test_template_fields_are_documented(crds):
    template = schema_of(crds["workflows.argoproj.io"])["properties"]["spec"]["properties"]["templates"][
        "items"
    ]
    undocumented = [name for name, sub in template["properties"].items() if not sub.get("description")]
    assert undocumented == []


def test_status_and_stored_copies(crds):
    status = schema_of(crds["workflows.argoproj.io"])["properties"]["status"]
    free = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert status["properties"]["storedTemplates"] == free
    assert status["properties"]["storedWorkflowTemplateSpec"] == free
    for field in ("phase", "message", "startedAt", "finishedAt", "nodes", "conditions", "progress"):
        assert field in status["properties"], field


# --- nothing of Argo's examples is pruned ---------------------------------------------------------


def prune_problems(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """What structural pruning or type validation would drop or refuse in `value`."""
    if value is None:
        return [f"{path}: null (the API server drops nulls of non-nullable fields)"]
    if schema.get("x-kubernetes-int-or-string"):
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        return [] if ok else [f"{path}: {type(value).__name__} is not int-or-string"]
    kind = schema.get("type")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    if kind is not None and not checks[kind](value):
        return [f"{path}: {type(value).__name__} where the schema says {kind}"]
    problems = []
    if kind == "array":
        for index, item in enumerate(value):
            problems += prune_problems(item, schema["items"], f"{path}[{index}]")
    if kind == "object":
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if properties is not None and key in properties:
                problems += prune_problems(sub, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                problems += prune_problems(sub, extra, f"{path}.{key}")
            elif not preserve:
                problems.append(f"{path}.{key}: pruned (not in the schema)")
    return problems


def test_pruning_check_catches_what_it_claims():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "n": {"x-kubernetes-int-or-string": True}},
    }
    assert prune_problems({"a": "x", "n": 3}, schema, "o") == []
    assert prune_problems({"a": "x", "zz": 1}, schema, "o") == ["o.zz: pruned (not in the schema)"]
    assert prune_problems({"a": 1}, schema, "o") == ["o.a: int where the schema says string"]
    assert prune_problems({"n": 1.5}, schema, "o") == ["o.n: float is not int-or-string"]


def argo_documents(root: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(root.rglob("*.yaml")):
        try:
            docs = list(yaml.load_all(path.read_text(), Loader=LOADER))
        except yaml.YAMLError:
            continue
        for index, doc in enumerate(docs):
            if (
                isinstance(doc, dict)
                and doc.get("kind") in KINDS
                and str(doc.get("apiVersion", "")).startswith(("argoproj.io/", "sluice.dev/"))
            ):
                found.append((f"{path.relative_to(root)}#{index}", doc))
    return found


def test_no_field_of_any_argo_example_is_pruned(crds, argo_examples):
    documents = argo_documents(argo_examples)
    assert len(documents) > 150, "expected Argo's examples (about 200 files)"
    problems = []
    for where, doc in documents:
        schema = schema_of(crds[KINDS[doc["kind"]]])
        # The API server handles the root's metadata itself (ObjectMeta); the schema says only `object`.
        body = {k: v for k, v in doc.items() if k != "metadata"}
        problems += [f"{where}: {p}" for p in prune_problems(body, schema, doc["kind"])]
    assert problems == [], "\n".join(problems[:40])
