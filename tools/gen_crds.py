"""Generate crds/: the CustomResourceDefinitions, from the core's types (one source of truth).

    .venv/bin/python tools/gen_crds.py           # rewrite crds/
    .venv/bin/python tools/gen_crds.py --check   # exit 1 when crds/ differs from what this writes

Schemas come from `msgspec.json.schema` of the Structs in `workflow.types` (Argo's types, and the
Kubernetes core types generated from kubernetes_asyncio's models by tools/gen_k8s_types.py) and are
rewritten into *structural* schemas the API server accepts:

- every `$ref` is inlined (structural schemas have no references); a type that contains itself
  (`steps[][].inline`, `dag.tasks[].inline` are Templates) stops at the second level as a free-form
  object, as in Argo's CRDs;
- `X | None` becomes X (absent = null = unset); `int | str` becomes `x-kubernetes-int-or-string`;
  a Kubernetes quantity (`int | float | str`), Argo's AnyString (a string, number or boolean) and
  free-form JSON keep any value (`x-kubernetes-preserve-unknown-fields`);
- required lists, enums, patterns and bounds are left out on purpose: the API server checks shapes
  only, and the webhook reports every problem at once with its field path (docs/architecture.md, contract 4).
  Nothing a valid workflow carries is pruned.

Descriptions (what `kubectl explain` shows): Argo fields from tools/crd_docs.yaml (our words),
Kubernetes fields from kubernetes_asyncio's model docstrings (the Kubernetes OpenAPI descriptions).
Like Argo, descriptions are left out under `status` and `templateDefaults`, and Kubernetes field
descriptions are kept only at their first level below an Argo field, to keep the CRDs small.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from workflow import types as wt  # noqa: E402
from workflow.types.base import AnyString, Plugin  # noqa: E402

CRDS = REPO / "crds"
DOCS = Path(__file__).resolve().parent / "crd_docs.yaml"

ARGO_GROUP = "argoproj.io"
SLUICE_GROUP = "sluice.dev"
VERSION = "v1alpha1"

K8S_MODULES = ("workflow.types.k8s_generated", "workflow.types.k8s")
ANY = {"x-kubernetes-preserve-unknown-fields": True}
FREE_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

# Paths (below the object root) whose schema is a free-form object, as in Argo's CRDs: copies of
# templates and specs the controller stores, whose full schema would only double the size.
FREE_PATHS = {
    "status.storedTemplates": "Templates as resolved when the workflow started, keyed by their reference.",
    "status.storedWorkflowTemplateSpec": "The WorkflowTemplate spec as resolved when the workflow started.",
}
# Subtrees without descriptions (as Argo strips them): the controller writes status, and
# templateDefaults repeats Template.
NO_DESCRIPTION_UNDER = ("status", "spec.templateDefaults", "spec.workflowSpec.templateDefaults")


def _schema_hook(kind: type) -> dict[str, Any]:
    if kind is AnyString:
        return {"x-sluice-any-string": True}
    if kind is Plugin:
        return {"x-sluice-plugin": True}
    raise NotImplementedError(f"no schema for {kind!r}")


def _k8s_docs() -> dict[str, dict[str, str]]:
    """`{ShortTypeName: {jsonField: description}}` from kubernetes_asyncio's model docstrings."""
    from kubernetes_asyncio.client import models

    prefix = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")
    found: dict[str, dict[str, str] | None] = {}
    for name in sorted(dir(models)):
        model = getattr(models, name)
        if not isinstance(model, type) or not hasattr(model, "attribute_map"):
            continue
        short = prefix.sub("", name)
        fields: dict[str, str] = {}
        for attr, json_name in model.attribute_map.items():
            prop = getattr(model, attr, None)
            text = _docstring_text(getattr(prop, "__doc__", None) or "")
            if text:
                fields[json_name] = text
        # Two models with one short name (rare): keep neither rather than guess.
        found[short] = None if short in found else fields
    return {k: v for k, v in found.items() if v is not None}


def _docstring_text(doc: str) -> str:
    """The description part of a kubernetes_asyncio property docstring."""
    lines = [line.strip() for line in doc.splitlines()]
    body = [
        line.replace("# noqa: E501", "").strip() for line in lines[1:] if line and not line.startswith(":")
    ]
    return " ".join(part for part in body if part)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Converter:
    """msgspec JSON Schema → structural OpenAPI v3 schema."""

    def __init__(self, defs: dict[str, Any], argo_docs: dict[str, Any], k8s_docs: dict[str, dict[str, str]]):
        self.defs = defs
        self.argo_docs = argo_docs
        self.k8s_docs = k8s_docs

    def is_k8s(self, name: str) -> bool:
        return self.defs[name].get("x-sluice-module", "") in K8S_MODULES

    def type_name(self, ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def field_doc(self, owner: str, field: str, k8s_depth: int) -> str | None:
        short = owner.rsplit(".", 1)[-1]
        if self.is_k8s(owner):
            if k8s_depth > 1:
                return None
            return self.k8s_docs.get(short, {}).get(field)
        entry = self.argo_docs.get(short) or {}
        doc = (entry.get("fields") or {}).get(field)
        if doc is None and entry.get("inherit") and k8s_depth <= 1:
            doc = self.k8s_docs.get(entry["inherit"], {}).get(field)
        return doc

    def type_doc(self, name: str) -> str | None:
        short = name.rsplit(".", 1)[-1]
        entry = self.argo_docs.get(short) or {}
        if entry.get("description"):
            return entry["description"]
        if self.is_k8s(name):
            return None
        text = self.defs[name].get("description")
        return _normalise(text) if text else None

    def convert(
        self, node: dict[str, Any], path: str, stack: tuple[str, ...], k8s_depth: int
    ) -> dict[str, Any]:
        """One schema node at `path` (dotted, for FREE_PATHS), inside the types on `stack`."""
        if path in FREE_PATHS:
            return dict(FREE_OBJECT)
        if "$ref" in node:
            name = self.type_name(node["$ref"])
            if name in stack:
                # A type inside itself (an inline Template): free-form from here on, as in Argo.
                return dict(FREE_OBJECT)
            return self.convert_struct(name, path, (*stack, name), k8s_depth)
        if "anyOf" in node:
            return self.convert_union(node["anyOf"], path, stack, k8s_depth)
        if node.get("x-sluice-any-string"):
            return dict(ANY)
        if node.get("x-sluice-plugin"):
            return dict(FREE_OBJECT)
        kind = node.get("type")
        if kind is None:
            return dict(ANY)  # Any: free-form JSON (withItems entries, arbitrary values)
        if kind == "array":
            return {
                "type": "array",
                "items": self.convert(node.get("items", {}), path + "[]", stack, k8s_depth),
            }
        if kind == "object":
            extra = node.get("additionalProperties", True)
            if extra is True or extra == {}:
                return dict(FREE_OBJECT)
            return {
                "type": "object",
                "additionalProperties": self.convert(extra, path + "{}", stack, k8s_depth),
            }
        if kind in ("string", "integer", "number", "boolean"):
            return {"type": kind}
        raise ValueError(f"{path}: unsupported schema {node!r}")

    def convert_union(
        self, options: list[dict[str, Any]], path: str, stack: tuple[str, ...], k8s_depth: int
    ) -> dict[str, Any]:
        options = [o for o in options if o.get("type") != "null"]
        if len(options) == 1:
            return self.convert(options[0], path, stack, k8s_depth)
        kinds = {o.get("type") for o in options}
        if all(set(o) == {"type"} for o in options):
            if kinds == {"integer", "string"}:
                return {"x-kubernetes-int-or-string": True}
            if kinds <= {"integer", "number", "string", "boolean"}:
                return dict(ANY)  # a quantity (1, 0.5, "1Gi") or a scalar of several types
        raise ValueError(f"{path}: unsupported union {options!r}")

    def convert_struct(self, name: str, path: str, stack: tuple[str, ...], k8s_depth: int) -> dict[str, Any]:
        definition = self.defs[name]
        k8s = self.is_k8s(name)
        # Container-like Argo types (ScriptTemplate, UserContainer) count as the first Kubernetes level.
        depth = k8s_depth + 1 if k8s or (self.argo_docs.get(name) or {}).get("inherit") else 0
        properties: dict[str, Any] = {}
        for field, sub in definition.get("properties", {}).items():
            sub_path = f"{path}.{field}" if path else field
            converted = self.convert(sub, sub_path, stack, depth)
            doc = self.field_doc(name, field, depth)
            ref = _first_ref(sub)
            if doc is None and ref is not None:
                doc = self.type_doc(self.type_name(ref))
            if doc and not _under(sub_path, NO_DESCRIPTION_UNDER):
                converted = {"description": _normalise(doc), **converted}
            properties[field] = converted
        return {"type": "object", "properties": properties} if properties else dict(FREE_OBJECT)


def _first_ref(node: dict[str, Any]) -> str | None:
    if "$ref" in node:
        return node["$ref"]
    for option in node.get("anyOf", []):
        if "$ref" in option:
            return option["$ref"]
    return None


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in prefixes)


def struct_schema(
    kind: type, argo_docs: dict[str, Any], k8s_docs: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The structural schema of a top-level object type (apiVersion, kind, metadata, spec, status...)."""
    raw = msgspec.json.schema(kind, schema_hook=_schema_hook)
    defs = raw["$defs"]
    for name in defs:
        defs[name]["x-sluice-module"] = _module_of(name)
    converter = Converter(defs, argo_docs, k8s_docs)
    root = converter.type_name(raw["$ref"])
    schema = converter.convert_struct(root, "", (root,), 0)
    props = schema["properties"]
    # The API server owns ObjectMeta at the root: only `type: object` is allowed there.
    props["metadata"] = {"type": "object"}
    props["apiVersion"] = {
        "description": "The versioned schema of this object: argoproj.io/v1alpha1.",
        "type": "string",
    }
    props["kind"] = {"description": "The kind of this object.", "type": "string"}
    doc = converter.type_doc(root)
    if doc:
        schema = {"description": doc, **schema}
    return schema


def _module_of(def_name: str) -> str:
    """Which module a `$defs` entry comes from (msgspec qualifies names only on collisions)."""
    if "." in def_name:
        return def_name.rsplit(".", 1)[0]
    for module in K8S_MODULES:
        obj = getattr(sys.modules.get(module), def_name, None)
        if isinstance(obj, type) and obj.__module__ == module:
            return module
    return "workflow.types"


# --- our own kind ---------------------------------------------------------------------------------


def workflow_policy_schema() -> dict[str, Any]:
    """WorkflowPolicy (sluice.dev): shaped like a ValidatingAdmissionPolicy; the webhook gives it meaning.

    Deliberately permissive: the known fields are typed (so `kubectl explain` documents them) and
    `spec`, `spec.match` and each rule keep unknown fields, so nothing the webhook's parser accepts
    is pruned while its format settles. The webhook refuses what it does not understand.
    """
    selector = {
        "type": "object",
        "description": "A Kubernetes label selector (matchLabels, matchExpressions).",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    strings = {"type": "array", "items": {"type": "string"}}
    rule = {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "name": {"type": "string", "description": "The rule's name, shown with its message."},
            "expression": {
                "type": "string",
                "description": "A CEL expression that is true when the object complies.",
            },
            "message": {"type": "string", "description": "What a denial or warning says."},
            "messageExpression": {
                "type": "string",
                "description": "A CEL expression giving the message; wins over message when it yields a string.",
            },
            "action": {
                "type": "string",
                "description": "Deny (refuse the object), Warn (admit with a warning) or Audit (record only).",
            },
            "fieldPath": {"type": "string", "description": "The field a denial is reported on."},
        },
    }
    spec = {
        "type": "object",
        "description": "CEL rules over workflows as submitted and as expanded (templates resolved).",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "rules": {"type": "array", "description": "The rules, checked in order.", "items": rule},
            "validations": {"type": "array", "description": "The rules, checked in order.", "items": rule},
            "failurePolicy": {
                "type": "string",
                "description": "Fail (a rule that errors counts as violated) or Ignore (skipped).",
            },
            "match": {
                "type": "object",
                "description": "Which objects the policy applies to; an empty match applies to all.",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {
                    "kinds": {
                        **strings,
                        "description": "Workflow, CronWorkflow, WorkflowTemplate, ClusterWorkflowTemplate.",
                    },
                    "operations": {**strings, "description": "CREATE, UPDATE."},
                    "namespaces": {**strings, "description": "Namespace names the policy applies in."},
                    "excludeNamespaces": {**strings, "description": "Namespace names it never applies in."},
                    "namespaceSelector": selector,
                    "objectSelector": selector,
                },
            },
        },
    }
    return {
        "description": "A cluster-wide admission policy for Argo workflow objects (Sluice's own kind).",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string", "description": "sluice.dev/v1alpha1."},
            "kind": {"type": "string", "description": "WorkflowPolicy."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {
                "type": "object",
                "description": "Written by the webhook (for example whether the rules compiled).",
                "x-kubernetes-preserve-unknown-fields": True,
            },
        },
    }


# --- the CRDs -------------------------------------------------------------------------------------

AGE_STARTED = {"name": "Age", "type": "date", "jsonPath": ".status.startedAt"}
AGE_CREATED = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

KINDS: list[dict[str, Any]] = [
    {
        "kind": "Workflow",
        "type": wt.Workflow,
        "plural": "workflows",
        "shortNames": ["wf"],
        "scope": "Namespaced",
        "status": True,
        "columns": [
            {
                "name": "Status",
                "type": "string",
                "jsonPath": ".status.phase",
                "description": "Status of the workflow",
            },
            {**AGE_STARTED, "description": "When the workflow was started"},
            {
                "name": "Message",
                "type": "string",
                "jsonPath": ".status.message",
                "description": "Human readable message indicating details about why the workflow is in this condition.",
            },
        ],
    },
    {
        "kind": "WorkflowTemplate",
        "type": wt.WorkflowTemplate,
        "plural": "workflowtemplates",
        "shortNames": ["wftmpl"],
        "scope": "Namespaced",
    },
    {
        "kind": "ClusterWorkflowTemplate",
        "type": wt.ClusterWorkflowTemplate,
        "plural": "clusterworkflowtemplates",
        "shortNames": ["clusterwftmpl", "cwft"],
        "scope": "Cluster",
    },
    {
        "kind": "CronWorkflow",
        "type": wt.CronWorkflow,
        "plural": "cronworkflows",
        "shortNames": ["cwf", "cronwf"],
        "scope": "Namespaced",
        "status": True,
        "columns": [
            {
                "name": "Schedules",
                "type": "string",
                "jsonPath": ".spec.schedules",
                "description": "When workflows are submitted",
            },
            {
                "name": "Suspended",
                "type": "boolean",
                "jsonPath": ".spec.suspend",
                "description": "Whether scheduling is suspended",
            },
            {
                "name": "Last Scheduled",
                "type": "date",
                "jsonPath": ".status.lastScheduledTime",
                "description": "When a workflow was last submitted",
            },
            {**AGE_CREATED},
        ],
    },
    {
        "kind": "WorkflowTaskResult",
        "type": wt.WorkflowTaskResult,
        "plural": "workflowtaskresults",
        "shortNames": [],
        "scope": "Namespaced",
        "columns": [
            {
                "name": "Phase",
                "type": "string",
                "jsonPath": ".phase",
                "description": "The node's phase as the executor saw it",
            },
            {**AGE_CREATED},
        ],
    },
    {
        "kind": "WorkflowPolicy",
        "schema": workflow_policy_schema,
        "group": SLUICE_GROUP,
        "plural": "workflowpolicies",
        "shortNames": ["wfpol"],
        "scope": "Cluster",
        "status": True,
    },
]


def crd(
    spec: dict[str, Any], argo_docs: dict[str, Any], k8s_docs: dict[str, dict[str, str]]
) -> dict[str, Any]:
    group = spec.get("group", ARGO_GROUP)
    schema = spec["schema"]() if "schema" in spec else struct_schema(spec["type"], argo_docs, k8s_docs)
    version: dict[str, Any] = {"name": VERSION, "served": True, "storage": True}
    if spec.get("columns"):
        version["additionalPrinterColumns"] = copy.deepcopy(spec["columns"])
    version["schema"] = {"openAPIV3Schema": schema}
    if spec.get("status"):
        version["subresources"] = {"status": {}}
    names: dict[str, Any] = {
        "kind": spec["kind"],
        "listKind": spec["kind"] + "List",
        "plural": spec["plural"],
        "singular": spec["kind"].lower(),
    }
    if spec["shortNames"]:
        names["shortNames"] = list(spec["shortNames"])
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{spec['plural']}.{group}",
            "labels": {"app.kubernetes.io/part-of": "sluice", "app.kubernetes.io/component": "crds"},
        },
        "spec": {"group": group, "names": names, "scope": spec["scope"], "versions": [version]},
    }


HEADER = "# Generated by tools/gen_crds.py from workflow/types. Do not edit: change the types or\n# tools/crd_docs.yaml and run `.venv/bin/python tools/gen_crds.py`.\n"


def dump(obj: Any) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return HEADER + yaml.dump(obj, Dumper=dumper, sort_keys=False, width=100000, allow_unicode=True)


def render() -> dict[str, str]:
    """File name → content for everything in crds/."""
    argo_docs = yaml.safe_load(DOCS.read_text()) or {}
    k8s_docs = _k8s_docs()
    files: dict[str, str] = {}
    json_sizes: dict[str, int] = {}
    for spec in KINDS:
        definition = crd(spec, argo_docs, k8s_docs)
        name = definition["metadata"]["name"] + ".yaml"
        files[name] = dump(definition)
        json_sizes[name] = len(json.dumps(definition, separators=(",", ":")))
    names = sorted(files)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": names,
    }
    files["kustomization.yaml"] = dump(kustomization)
    files["README.md"] = readme(files, names, json_sizes)
    return files


def readme(files: dict[str, str], names: list[str], json_sizes: dict[str, int]) -> str:
    rows = []
    total = 0
    for name in names:
        data = files[name]
        as_json = json_sizes[name]
        total += as_json
        rows.append(f"| `{name}` | {len(data.encode()):,} | {as_json:,} |")
    return "\n".join(
        [
            "# CRDs",
            "",
            "Generated by `tools/gen_crds.py` from the types in `workflow/types/` (do not edit; a unit test",
            "fails while these files differ from what the generator writes). Structural schemas, nothing of",
            "a valid Argo workflow pruned; descriptions for `kubectl explain`.",
            "",
            "| file | YAML bytes | JSON bytes (what kubectl sends) |",
            "|---|---:|---:|",
            *rows,
            f"| **total** | {sum(len(files[n].encode()) for n in names):,} | {total:,} |",
            "",
            "Every CRD is below the API server's 3 MiB request limit, but several are above the 256 KiB",
            "`kubectl.kubernetes.io/last-applied-configuration` annotation that client-side apply writes:",
            "install with server-side apply.",
            "",
            "    kubectl apply --server-side -k crds/",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when crds/ is out of date")
    args = parser.parse_args(argv)
    files = render()
    stale = sorted(
        name
        for name, text in files.items()
        if not (CRDS / name).is_file() or (CRDS / name).read_text() != text
    )
    extra = (
        sorted(p.name for p in CRDS.glob("*") if p.is_file() and p.name not in files) if CRDS.is_dir() else []
    )
    if args.check:
        for name in stale:
            print(f"crds/{name} is out of date", file=sys.stderr)
        for name in extra:
            print(f"crds/{name} is not generated", file=sys.stderr)
        if stale or extra:
            print("run: .venv/bin/python tools/gen_crds.py", file=sys.stderr)
            return 1
        return 0
    CRDS.mkdir(exist_ok=True)
    for name in extra:
        (CRDS / name).unlink()
    for name, text in files.items():
        (CRDS / name).write_text(text)
    for name in sorted(files):
        print(f"crds/{name}: {len(files[name].encode()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
