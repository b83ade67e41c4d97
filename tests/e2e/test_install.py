"""The install on a real cluster: the quick-start overlay brings MinIO up and creates the artifact
bucket, deleting it removes everything it added, and RBAC grants what manifests/ says (kubectl auth
can-i, for the executor, the controller, editors, viewers and approvers).

The cluster is shared with other tests, so by default the quick-start is applied as `kubectl kustomize`
renders it with its namespace (`sluice`) and the names of its cluster-scoped RBAC objects made unique
to this run; `test_isolated_render_differs_only_in_names` checks that nothing else changes. Its CRDs
are applied server-side alongside (shared, identical) and never deleted. With SLUICE_E2E_EXCLUSIVE=1
(a cluster nothing else uses, no `sluice` namespace and no Sluice CRDs yet) the test runs the literal
`kubectl apply --server-side -k manifests/overlays/quick-start` and `kubectl delete -k` instead, CRDs
included.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from .concurrency import file_lock
from .kube import api_client, exit_code, pod_manifest, run_pod

REPO = Path(__file__).resolve().parents[2]
QUICK_START = REPO / "manifests" / "overlays" / "quick-start"
CLUSTER_DIR = Path(os.environ.get("SLUICE_CLUSTER_DIR", REPO / ".cluster"))
CTR = ["ctr", "--address", "/run/sluice-cluster/containerd/containerd.sock", "-n", "k8s.io"]
EXCLUSIVE = os.environ.get("SLUICE_E2E_EXCLUSIVE") == "1"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}


def bucket_client():
    spec = importlib.util.spec_from_file_location("create_bucket", QUICK_START / "create_bucket.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["create_bucket"] = module
    spec.loader.exec_module(module)
    return module


_RENDERED: dict[Path, list[dict[str, Any]]] = {}


def render(kubectl, overlay: Path = QUICK_START) -> list[dict[str, Any]]:
    """`kubectl kustomize` of an overlay (cached: the CRDs make each render take tens of seconds)."""
    if overlay not in _RENDERED:
        text = kubectl("kustomize", str(overlay), timeout=240)
        _RENDERED[overlay] = [d for d in yaml.load_all(text, Loader=LOADER) if d]
    return copy.deepcopy(_RENDERED[overlay])


def as_list(docs: list[dict[str, Any]]) -> str:
    """Objects as one JSON `List` for `kubectl apply/delete -f -` (much faster to write than YAML)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})


def isolate(docs: list[dict[str, Any]], namespace: str, suffix: str) -> list[dict[str, Any]]:
    """The same objects in `namespace`, with cluster-scoped RBAC names ending in `-suffix`."""
    renamed = {d["metadata"]["name"] for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: walk(v) for k, v in node.items()}
            if node.get("kind") == "ClusterRole" and node.get("name") in renamed and "apiGroup" in node:
                node["name"] = f"{node['name']}-{suffix}"  # a roleRef
            if node.get("kind") == "ServiceAccount" and node.get("namespace") == "sluice":
                node["namespace"] = namespace  # a subject
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return node.replace(".sluice.svc", f".{namespace}.svc")
        return node

    out = []
    for doc in docs:
        doc = walk(doc)
        meta = doc["metadata"]
        if doc["kind"] == "Namespace":
            meta["name"] = namespace
        elif doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            meta["name"] = f"{meta['name']}-{suffix}"
        elif meta.get("namespace") == "sluice":
            meta["namespace"] = namespace
        out.append(doc)
    return out


# The programs act cluster-wide (the controller runs every unlabelled workflow; the webhook's
# configurations gate every namespace), so a second, isolated copy of them would fight the real one:
# the isolated install leaves them out. tests/e2e/test_quick_start.py installs them literally.
PROGRAMS = {
    ("Deployment", "sluice-controller"),
    ("Deployment", "sluice-webhook"),
    ("ValidatingWebhookConfiguration", "sluice-webhook"),
    ("MutatingWebhookConfiguration", "sluice-webhook"),
}


def without_programs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if (d["kind"], d["metadata"]["name"]) not in PROGRAMS]


def test_isolated_render_differs_only_in_names(kubectl):
    docs = without_programs(render(kubectl))
    isolated = isolate(docs, "sluice-qs-x", "x")
    assert len(isolated) == len(docs)
    text = json.dumps(isolated)
    assert ".sluice.svc" not in text
    assert '"namespace": "sluice"' not in text
    assert not [d for d in isolated if d["kind"] == "Namespace" and d["metadata"]["name"] == "sluice"]
    restored = json.loads(text.replace("sluice-qs-x", "sluice").replace('-x"', '"'))
    assert restored == docs


# --- the MinIO image -----------------------------------------------------------------------------


def ensure_minio_image(image: str) -> None:
    """The quick-start's MinIO image, built from the cluster's MinIO binary when the cluster's own
    image build did not make it (cluster/build-images.sh makes it since issue 10 item 7; a cluster
    brought up before that lacks it). One import at a time on this machine (test_quick_start.py's
    install, on another e2e worker, asks too)."""
    with file_lock(Path(tempfile.gettempdir()) / "sluice-e2e-minio-image.lock"):
        _ensure_minio_image(image)


def _ensure_minio_image(image: str) -> None:
    proc = subprocess.run([*CTR, "images", "ls", "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, f"cannot list the cluster's images with ctr: {proc.stderr.strip()}"
    listed = proc.stdout
    if image in listed.split():
        return
    minio = (CLUSTER_DIR / "bin" / "minio").resolve()
    assert minio.is_file(), f"no MinIO binary at {minio} to build {image} from (make cluster-up builds it)"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        for d in ("usr/bin", "etc", "tmp", "data"):
            (root / d).mkdir(parents=True)
        (root / "usr/bin/minio").write_bytes(minio.read_bytes())
        (root / "usr/bin/minio").chmod(0o755)
        (root / "etc/passwd").write_text(
            "root:x:0:0::/root:/bin/false\nminio:x:65532:65532::/tmp:/bin/false\n"
        )
        (root / "etc/group").write_text("root:x:0:\nminio:x:65532:\n")
        (root / "tmp").chmod(0o1777)
        os.chown(root / "data", 65532, 65532)
        layer = Path(tmp) / "layer.tar"
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "--sort=name", "-cf", str(layer), "."], check=True
        )
        store = Path(tmp) / "store"
        subprocess.run(
            [
                sys.executable,
                str(REPO / "cluster/images/mkimage.py"),
                str(store),
                "--name",
                image,
                "--layer",
                str(layer),
                "--entrypoint",
                '["/usr/bin/minio"]',
                "--user",
                "65532:65532",
            ],
            check=True,
            capture_output=True,
        )
        archive = Path(tmp) / "image.tar"
        subprocess.run(["tar", "-C", str(store), "-cf", str(archive), "."], check=True)
        subprocess.run(
            [*CTR, "images", "import", "--snapshotter", "overlayfs", str(archive)],
            check=True,
            capture_output=True,
        )


def image_of(docs: list[dict[str, Any]], name: str) -> str:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


# --- the quick-start ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_start(kubectl, own_cluster):
    """Apply the quick-start (isolated or literal), yield (namespace, objects, suffix), delete it."""
    docs = render(kubectl)
    if own_cluster:
        ensure_minio_image(image_of(docs, "minio"))
    suffix = uuid.uuid4().hex[:6]
    if EXCLUSIVE:
        present = kubectl("get", "crd", "-o", "name").split()
        assert not [c for c in present if c.endswith((".argoproj.io", ".sluice.dev"))], (
            "CRDs already installed"
        )
        assert kubectl("get", "namespace", "sluice", check=False) == "", "namespace sluice exists"
        namespace, applied = "sluice", docs
        kubectl("apply", "--server-side", "-k", str(QUICK_START), timeout=300)
    else:
        namespace = f"sluice-qs-{suffix}"
        applied = without_programs(isolate(docs, namespace, suffix))
        kubectl(
            "apply",
            "--server-side",
            "--field-manager=sluice-e2e-install",
            "--force-conflicts",
            "-f",
            "-",
            input=as_list(applied),
            timeout=300,
        )
    try:
        yield namespace, applied, suffix
    finally:
        if EXCLUSIVE:
            kubectl(
                "delete", "-k", str(QUICK_START), "--wait=true", "--timeout=180s", check=False, timeout=240
            )
        else:
            mine = [d for d in applied if d["kind"] != "CustomResourceDefinition"]
            kubectl(
                "delete",
                "--wait=true",
                "--timeout=180s",
                "--ignore-not-found",
                "-f",
                "-",
                input=as_list(mine),
                check=False,
                timeout=240,
            )


def test_quick_start_brings_minio_ready_and_creates_the_bucket(kubectl, quick_start):
    namespace, applied, _ = quick_start
    deployments = [d["metadata"]["name"] for d in applied if d["kind"] == "Deployment"]
    assert set(deployments) == ({"minio", "sluice-controller", "sluice-webhook"} if EXCLUSIVE else {"minio"})
    for name in deployments:
        kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=240s", timeout=260)
        ready = json.loads(kubectl("get", "deployment", name, "-n", namespace, "-o", "json"))
        assert ready["status"].get("readyReplicas") == ready["spec"]["replicas"]
    kubectl(
        "wait",
        "--for=condition=complete",
        "job/minio-create-bucket",
        "-n",
        namespace,
        "--timeout=300s",
        timeout=320,
    )
    logs = kubectl("logs", "job/minio-create-bucket", "-n", namespace)
    assert "sluice-artifacts" in logs
    assert "sluice-quickstart-not-secret" not in logs  # credentials are never printed

    # Ask MinIO itself, from this machine, at the pod's address on the node's bridge.
    pod = json.loads(
        kubectl("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=minio", "-o", "json")
    )
    (item,) = pod["items"]
    endpoint = f"{item['status']['podIP']}:9000"
    secret = next(
        d for d in applied if d["kind"] == "Secret" and d["metadata"]["name"] == "minio-credentials"
    )
    keys = secret["stringData"]
    s3 = bucket_client()
    assert s3.bucket_exists(endpoint, "sluice-artifacts", keys["accesskey"], keys["secretkey"]) is True
    assert (
        s3.bucket_exists(endpoint, f"absent-{uuid.uuid4().hex[:6]}", keys["accesskey"], keys["secretkey"])
        is False
    )
    with pytest.raises(RuntimeError, match="403"):
        s3.bucket_exists(endpoint, "sluice-artifacts", keys["accesskey"], "wrong-secret")


async def test_workflow_pods_reach_the_quick_starts_minio_by_its_name(kubectl, kubeconfig, quick_start):
    """The endpoint the quick-start's artifact repository names (`minio.sluice.svc:9000`; in the isolated
    copy `minio.<namespace>.svc:9000`) is resolved by the cluster DNS and reached from a pod of that
    namespace, under its restricted Pod Security Standard."""
    namespace, applied, _ = quick_start
    repos = next(
        d for d in applied if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "artifact-repositories"
    )
    default_key = repos["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    endpoint = yaml.safe_load(repos["data"][default_key])["s3"]["endpoint"]
    assert endpoint == ("minio.sluice.svc:9000" if EXCLUSIVE else f"minio.{namespace}.svc:9000")
    kubectl("rollout", "status", "deployment/minio", "-n", namespace, "--timeout=240s", timeout=260)
    script = (
        "import urllib.request\n"
        f"url = 'http://{endpoint}/minio/health/live'\n"
        "print('minio', urllib.request.urlopen(url, timeout=20).status)\n"
    )
    manifest = pod_manifest(
        "minio-by-name",
        "python:alpine3.23",
        ["python", "-c"],
        [script],
        securityContext={
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    )
    manifest["spec"]["containers"][0]["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    async with api_client(kubeconfig) as api:
        pod, logs = await run_pod(api, namespace, manifest)
    assert exit_code(pod) == 0, logs
    assert "minio 200" in logs, logs


def test_quick_start_pods_pass_the_restricted_pod_security_standard(kubectl, quick_start):
    namespace, _, _ = quick_start
    labels = json.loads(kubectl("get", "namespace", namespace, "-o", "json"))["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    assert {p["metadata"]["labels"].get("app.kubernetes.io/name") for p in pods} >= {
        "minio",
        "minio-create-bucket",
    }
    # The namespace enforces `restricted`: a privileged pod is refused there.
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "not-restricted"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}]
        },
    }
    with pytest.raises(AssertionError, match="violates PodSecurity"):
        kubectl("create", "-n", namespace, "--dry-run=server", "-f", "-", input=json.dumps(bad))


# --- RBAC -----------------------------------------------------------------------------------------


def can_i(
    kubectl, verb: str, resource: str, who: str, namespace: str | None, subresource: str | None = None
) -> bool:
    args = ["auth", "can-i", verb, resource, f"--as={who}"]
    if namespace:
        args += ["-n", namespace]
    if subresource:
        args += [f"--subresource={subresource}"]
    answer = kubectl(*args, check=False).strip()
    assert answer in ("yes", "no"), f"kubectl {' '.join(args)}: {answer!r}"
    return answer == "yes"


def eventually(check, timeout: float = 60) -> bool:
    """Aggregated roles are filled in by the controller manager a moment after they appear."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def test_executor_may_create_task_results_and_nothing_else_of_note(kubectl, quick_start):
    namespace, _, _ = quick_start
    executor = f"system:serviceaccount:{namespace}:sluice-executor"
    wtr = "workflowtaskresults.argoproj.io"
    assert can_i(kubectl, "create", wtr, executor, namespace)
    assert can_i(kubectl, "patch", wtr, executor, namespace)
    denied = [
        ("get", wtr, None),
        ("list", wtr, None),
        ("delete", wtr, None),
        ("get", "workflows.argoproj.io", None),
        ("create", "workflows.argoproj.io", None),
        ("patch", "workflows.argoproj.io", "status"),
        ("get", "secrets", None),
        ("list", "configmaps", None),
        ("create", "pods", None),
        ("get", "pods", None),
        ("create", "pods", "exec"),
        ("create", "serviceaccounts", "token"),
    ]
    for verb, resource, sub in denied:
        assert not can_i(kubectl, verb, resource, executor, namespace, sub), (verb, resource, sub)
    # and nowhere else
    assert not can_i(kubectl, "create", wtr, executor, "default")


def test_editors_cannot_write_workflow_status_but_approvers_can(kubectl, quick_start):
    namespace, _, suffix = quick_start
    users = {role: f"sluice-e2e-{role}-{suffix}" for role in ("edit", "view", "admin", "approve")}
    roles = {"edit": "edit", "view": "view", "admin": "admin", "approve": "sluice-workflows-approve"}
    if not EXCLUSIVE:
        roles["approve"] += f"-{suffix}"
    for key, user in users.items():
        kubectl(
            "create", "rolebinding", user, f"--clusterrole={roles[key]}", f"--user={user}", "-n", namespace
        )
    wf = "workflows.argoproj.io"

    # edit: aggregated workflow rights, but no status writes
    assert eventually(lambda: can_i(kubectl, "create", wf, users["edit"], namespace))
    assert can_i(kubectl, "update", wf, users["edit"], namespace)
    assert can_i(kubectl, "delete", "cronworkflows.argoproj.io", users["edit"], namespace)
    assert can_i(kubectl, "create", "workflowtemplates.argoproj.io", users["edit"], namespace)
    for verb in ("patch", "update"):
        assert not can_i(kubectl, verb, wf, users["edit"], namespace, "status"), verb
        assert not can_i(kubectl, verb, "cronworkflows.argoproj.io", users["edit"], namespace, "status"), verb
    assert not can_i(kubectl, "create", "workflowtaskresults.argoproj.io", users["edit"], namespace)

    # view: read only
    assert eventually(lambda: can_i(kubectl, "list", wf, users["view"], namespace))
    assert not can_i(kubectl, "create", wf, users["view"], namespace)

    # approver alone: resume (status) without editing the workflow
    assert can_i(kubectl, "patch", wf, users["approve"], namespace, "status")
    assert not can_i(kubectl, "update", wf, users["approve"], namespace)
    assert not can_i(kubectl, "patch", wf, users["approve"], "default", "status")

    # admin includes the approver's rights
    assert eventually(lambda: can_i(kubectl, "patch", wf, users["admin"], namespace, "status"))


def test_controller_and_webhook_rights(kubectl, quick_start):
    namespace, _, _ = quick_start
    controller = f"system:serviceaccount:{namespace}:sluice-controller"
    webhook = f"system:serviceaccount:{namespace}:sluice-webhook"
    other = "default"  # cluster-wide install: the controller works in every namespace
    for ns in (namespace, other):
        assert can_i(kubectl, "patch", "workflows.argoproj.io", controller, ns, "status")
        assert can_i(kubectl, "create", "pods", controller, ns)
        assert can_i(kubectl, "watch", "workflowtaskresults.argoproj.io", controller, ns)
        assert not can_i(kubectl, "get", "secrets", controller, ns)
        assert not can_i(kubectl, "create", "pods", controller, ns, "exec")
    # leader election: its own Lease, in its own namespace only
    assert can_i(kubectl, "update", "leases.coordination.k8s.io/sluice-controller", controller, namespace)
    assert not can_i(kubectl, "update", "leases.coordination.k8s.io/someone-else", controller, namespace)
    assert not can_i(kubectl, "update", "leases.coordination.k8s.io/sluice-controller", controller, other)
    assert can_i(kubectl, "list", "workflowpolicies.sluice.dev", webhook, None)
    assert can_i(kubectl, "list", "namespaces", webhook, None)
    assert can_i(kubectl, "get", "workflowtemplates.argoproj.io", webhook, other)
    assert not can_i(kubectl, "create", "workflows.argoproj.io", webhook, other)
    assert not can_i(kubectl, "get", "secrets", webhook, namespace)


def test_namespaced_install_confines_the_controller(kubectl, quick_start):
    """overlays/namespaced (its CRDs are the quick-start's): the controller's rights hold in its own
    namespace only; the webhook keeps its cluster-wide reads."""
    _, _, suffix = quick_start
    namespace = f"sluice-ns-{suffix}"
    docs = [
        d
        for d in yaml.safe_load_all(kubectl("kustomize", str(QUICK_START.parent / "namespaced"), timeout=180))
        if d
    ]
    docs = [
        d
        for d in without_programs(isolate(docs, namespace, f"ns{suffix}"))
        if d["kind"] != "CustomResourceDefinition"
    ]
    manifest = as_list(docs)
    kubectl(
        "apply", "--server-side", "--field-manager=sluice-e2e-install", "-f", "-", input=manifest, timeout=120
    )
    try:
        controller = f"system:serviceaccount:{namespace}:sluice-controller"
        webhook = f"system:serviceaccount:{namespace}:sluice-webhook"
        assert can_i(kubectl, "create", "pods", controller, namespace)
        assert can_i(kubectl, "patch", "workflows.argoproj.io", controller, namespace, "status")
        assert not can_i(kubectl, "create", "pods", controller, "default")
        assert not can_i(kubectl, "list", "workflows.argoproj.io", controller, "default")
        assert not can_i(kubectl, "list", "clusterworkflowtemplates.argoproj.io", controller, None)
        assert can_i(kubectl, "list", "workflowpolicies.sluice.dev", webhook, None)
        assert can_i(kubectl, "get", "workflowtemplates.argoproj.io", webhook, namespace)
        assert not can_i(kubectl, "get", "workflowtemplates.argoproj.io", webhook, "default")
    finally:
        kubectl(
            "delete",
            "--ignore-not-found",
            "--wait=false",
            "-f",
            "-",
            input=manifest,
            check=False,
            timeout=120,
        )


# --- removal --------------------------------------------------------------------------------------


def test_delete_removes_everything_the_quick_start_added(kubectl, quick_start):
    """Runs last in this module: deletes the install and checks that nothing of it is left."""
    namespace, applied, _ = quick_start
    if EXCLUSIVE:
        kubectl("delete", "-k", str(QUICK_START), "--wait=true", "--timeout=240s", timeout=300)
        removed = applied
    else:
        removed = [d for d in applied if d["kind"] != "CustomResourceDefinition"]
        kubectl(
            "delete",
            "--wait=true",
            "--timeout=240s",
            "-f",
            "-",
            input=as_list(removed),
            timeout=300,
        )
    left = []
    for doc in removed:
        name = doc["metadata"]["name"]
        args = [
            "get",
            doc["kind"].lower() if doc["kind"] != "CustomResourceDefinition" else "crd",
            name,
            "--ignore-not-found",
            "-o",
            "name",
        ]
        if doc["kind"] not in CLUSTER_SCOPED:
            args += ["-n", doc["metadata"].get("namespace", namespace)]
        if kubectl(*args, check=False).strip():
            left.append(f"{doc['kind']}/{name}")
    assert left == []
