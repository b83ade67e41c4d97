"""manifests/: every overlay renders, and follows manifests/CONVENTIONS.md (restricted pods, bounded
resources, least-privilege RBAC, labels). Rendering needs `kubectl kustomize` (kubectl on PATH)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("cluster-wide", "namespaced", "quick-start", "argo-crds")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
WORKLOADS = {"Deployment", "Job", "StatefulSet", "DaemonSet"}


def kubectl() -> str:
    path = shutil.which("kubectl") or str(REPO / ".cluster" / "bin" / "kubectl")
    if not Path(path).exists():
        pytest.skip("kubectl is not installed: cannot render the kustomizations (not counted as passing)")
    return path


_RENDERED: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(scope="module", autouse=True)
def light_tree(tmp_path_factory):
    """A copy of manifests/ beside a crds/ whose CRDs keep only their head (kind, name, labels).

    The CRDs' schemas are tested in test_crds.py; parsing 5 MB of them three times would make
    these tests take a minute.
    """
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(REPO / "manifests", root / "manifests")
    (root / "crds").mkdir()
    shutil.copy(REPO / "crds" / "kustomization.yaml", root / "crds")
    for name in yaml.safe_load((REPO / "crds" / "kustomization.yaml").read_text())["resources"]:
        head = []
        text = (REPO / "crds" / name).read_text()
        for line in text.splitlines(keepends=True):
            if line.startswith("spec:"):
                break
            head.append(line)
        # Keep whether the version has a status subresource (overlays/argo-crds removes it).
        subresources = "    subresources:\n      status: {}\n" if "\n    subresources:\n" in text else ""
        head.append(f"spec:\n  versions:\n  - name: v1alpha1\n{subresources}")
        (root / "crds" / name).write_text("".join(head))
    _TREE.append(root)
    yield
    _TREE.clear()
    _RENDERED.clear()


_TREE: list[Path] = []


def render(overlay: str) -> list[dict[str, Any]]:
    if overlay not in _RENDERED:
        out = subprocess.run(
            [kubectl(), "kustomize", str(_TREE[0] / "manifests" / "overlays" / overlay)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        _RENDERED[overlay] = [d for d in yaml.load_all(out, Loader=LOADER) if d]
    return _RENDERED[overlay]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_with_crds_and_labels(overlay):
    docs = render(overlay)
    crds = by_kind(docs, "CustomResourceDefinition")
    assert set(crds) == {
        "workflows.argoproj.io",
        "workflowtemplates.argoproj.io",
        "clusterworkflowtemplates.argoproj.io",
        "cronworkflows.argoproj.io",
        "workflowtaskresults.argoproj.io",
        "workflowpolicies.sluice.dev",
    }
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "sluice", (doc["kind"], doc["metadata"]["name"])
        if doc["kind"] not in ("Namespace", "CustomResourceDefinition"):
            assert labels.get("app.kubernetes.io/name"), (doc["kind"], doc["metadata"]["name"])
        if "namespace" in doc["metadata"]:
            assert doc["metadata"]["namespace"] == "sluice"
    namespace = by_kind(docs, "Namespace")["sluice"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"], doc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_restricted_and_bounded(overlay):
    for where, spec, doc in pod_specs(render(overlay)):
        pod_sc = spec.get("securityContext", {})
        assert pod_sc.get("runAsNonRoot") is True, where
        assert isinstance(pod_sc.get("runAsUser"), int) and pod_sc["runAsUser"] > 0, where
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        # Only the programs that talk to the API server mount a token (CONVENTIONS.md).
        talks_to_api = where in ("Deployment/sluice-controller", "Deployment/sluice-webhook")
        assert spec.get("automountServiceAccountToken") is talks_to_api, where
        selector = doc["spec"].get("selector", {}).get("matchLabels")
        if selector is not None:
            assert set(selector) <= {"app.kubernetes.io/name", "app.kubernetes.io/component"}, where
        for container in spec.get("initContainers", []) + spec["containers"]:
            name = f"{where}/{container['name']}"
            sc = container.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, name
            assert sc.get("readOnlyRootFilesystem") is True, name
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], name
            assert not sc.get("capabilities", {}).get("add"), name
            assert not sc.get("privileged"), name
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{name}: {part}"
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), name
            assert container.get("imagePullPolicy") == "IfNotPresent", name
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, where
            if "emptyDir" in volume:
                assert volume["emptyDir"].get("sizeLimit"), f"{where}: emptyDir {volume['name']}"


def test_each_overlay_runs_the_programs_it_promises():
    """Every install runs the controller; quick-start adds the webhook and MinIO (issue 11)."""
    for overlay in ("cluster-wide", "namespaced", "argo-crds"):
        assert {d["metadata"]["name"] for d in render(overlay) if d["kind"] in WORKLOADS} == {
            "sluice-controller"
        }
    workloads = {d["metadata"]["name"] for d in render("quick-start") if d["kind"] in WORKLOADS}
    assert workloads == {"sluice-controller", "sluice-webhook", "minio", "minio-create-bucket"}
    controller = by_kind(render("quick-start"), "Deployment")["sluice-controller"]
    (container,) = controller["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SLUICE_EXECUTOR_IMAGE"] == container["image"]  # the executor is the controller's image


def rules(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(group, resource, verb) triples a role grants."""
    return {
        (group, resource, verb)
        for rule in role.get("rules", [])
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rbac_has_no_wildcards_and_no_secrets(overlay):
    docs = render(overlay)
    for kind in ("ClusterRole", "Role"):
        for name, role in by_kind(docs, kind).items():
            for group, resource, verb in rules(role):
                assert "*" not in (group, resource, verb), f"{kind}/{name}"
                # The one exception: the webhook keeps its own certificate Secret (manifests/webhook).
                if resource == "secrets":
                    assert (kind, name) == ("Role", "sluice-webhook-tls"), f"{kind}/{name} may touch secrets"
                    assert verb in ("create", "get", "update"), f"{kind}/{name}: {verb} secrets"
                assert not resource.startswith("pods/exec"), f"{kind}/{name}"


def test_executor_may_only_report_task_results():
    role = by_kind(render("cluster-wide"), "ClusterRole")["sluice-executor"]
    assert rules(role) == {
        ("argoproj.io", "workflowtaskresults", "create"),
        ("argoproj.io", "workflowtaskresults", "patch"),
    }


def test_editors_cannot_write_status_and_approvers_can():
    roles = by_kind(render("cluster-wide"), "ClusterRole")
    edit = roles["sluice-workflows-edit"]
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert ("argoproj.io", "workflows", "update") in rules(edit)
    assert not [r for r in rules(edit) if r[1].endswith("/status") and r[2] not in ("get", "list", "watch")]
    assert not [r for r in rules(edit) if r[1] == "workflowtaskresults"]
    view = roles["sluice-workflows-view"]
    assert {verb for _, _, verb in rules(view)} == {"get", "list", "watch"}
    approve = roles["sluice-workflows-approve"]
    assert approve["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert ("argoproj.io", "workflows/status", "patch") in rules(approve)
    assert ("argoproj.io", "workflows", "update") not in rules(approve)


def test_controller_rights():
    role = by_kind(render("cluster-wide"), "ClusterRole")["sluice-controller"]
    granted = rules(role)
    for needed in [
        ("argoproj.io", "workflows/status", "patch"),
        ("argoproj.io", "cronworkflows/status", "update"),
        ("argoproj.io", "workflowtaskresults", "delete"),
        ("", "pods", "create"),
        ("", "pods", "delete"),
        ("", "configmaps", "watch"),
    ]:
        assert needed in granted, needed
    assert ("", "configmaps", "update") not in granted
    # Memoization caches are created and patched; Events recorded; no exec (pods are stopped by deadline).
    assert {("", "configmaps", "create"), ("", "configmaps", "patch"), ("", "events", "create")} <= granted
    assert ("", "pods/exec", "create") not in granted
    lease = by_kind(render("cluster-wide"), "Role")["sluice-controller-leader-election"]
    assert ("coordination.k8s.io", "leases", "update") in rules(lease)
    assert ("argoproj.io", "workflowtemplates", "update") not in granted
    assert ("argoproj.io", "workflowtaskresults", "create") not in granted


def test_scope_is_chosen_by_the_bindings():
    wide = render("cluster-wide")
    assert set(by_kind(wide, "ClusterRoleBinding")) == {
        "sluice-controller",
        "sluice-webhook",
        "sluice-webhook-cluster",
    }
    narrow = render("namespaced")
    assert set(by_kind(narrow, "ClusterRoleBinding")) == {"sluice-webhook-cluster"}
    bindings = by_kind(narrow, "RoleBinding")
    assert bindings["sluice-controller"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "sluice-controller",
    }
    config = by_kind(narrow, "ConfigMap")["sluice-controller-config"]
    assert config["data"]["namespace"] == "sluice"
    assert "namespace" not in by_kind(wide, "ConfigMap")["sluice-controller-config"]["data"]


def test_argo_crds_overlay_only_turns_the_status_subresource_off():
    def shape(overlay):
        return {
            d["metadata"]["name"]: [v.get("subresources") for v in d["spec"]["versions"]]
            for d in by_kind(render(overlay), "CustomResourceDefinition").values()
        }

    ours, argo = shape("cluster-wide"), shape("argo-crds")
    assert ours["workflows.argoproj.io"] == ours["cronworkflows.argoproj.io"] == [{"status": {}}]
    assert argo["workflows.argoproj.io"] == argo["cronworkflows.argoproj.io"] == [None]
    assert {k: v for k, v in argo.items() if not k.startswith(("workflows.", "cronworkflows."))} == {
        k: v for k, v in ours.items() if not k.startswith(("workflows.", "cronworkflows."))
    }
    strip = [d for d in render("argo-crds") if d["kind"] != "CustomResourceDefinition"]
    assert strip == [d for d in render("cluster-wide") if d["kind"] != "CustomResourceDefinition"]


def test_quick_start_makes_minio_the_default_repository():
    docs = render("quick-start")
    repos = by_kind(docs, "ConfigMap")["artifact-repositories"]
    key = repos["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    repo = yaml.safe_load(repos["data"][key])
    controller = yaml.safe_load(
        by_kind(docs, "ConfigMap")["sluice-controller-config"]["data"]["artifactRepository"]
    )
    assert repo == controller
    secret = by_kind(docs, "Secret")[repo["s3"]["accessKeySecret"]["name"]]
    assert repo["s3"]["accessKeySecret"]["key"] in secret["stringData"]
    assert repo["s3"]["secretKeySecret"]["key"] in secret["stringData"]
    job = by_kind(docs, "Job")["minio-create-bucket"]
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["S3_BUCKET"]["value"] == repo["s3"]["bucket"]
    assert env["S3_ENDPOINT_FALLBACK"]["value"] == repo["s3"]["endpoint"]
    service = by_kind(docs, "Service")["minio"]
    assert repo["s3"]["endpoint"] == f"minio.sluice.svc:{service['spec']['ports'][0]['port']}"


def test_configmaps_parse_as_argo_config():
    config = by_kind(render("cluster-wide"), "ConfigMap")
    for key, value in config["sluice-controller-config"]["data"].items():
        yaml.safe_load(value)  # every key is a YAML fragment
        assert key != "config", "one key per field, not Argo's single `config` key"
    defaults = yaml.safe_load(config["sluice-workflow-defaults"]["data"]["workflowDefaults"])
    assert isinstance(defaults, dict) and "spec" in defaults


def test_argocd_examples_point_at_real_overlays_with_server_side_apply():
    apps = {}
    for path in sorted((REPO / "manifests" / "argocd").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        assert doc["apiVersion"] == "argoproj.io/v1alpha1" and doc["kind"] == "Application", path.name
        assert "ServerSideApply=true" in doc["spec"]["syncPolicy"]["syncOptions"], path.name
        apps[path.name] = doc
    install = apps["sluice-install.yaml"]["spec"]["source"]["path"]
    assert (REPO / install / "kustomization.yaml").is_file()
    assert "workflows-repo.yaml" in apps
