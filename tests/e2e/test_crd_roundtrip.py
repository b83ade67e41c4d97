"""The CRDs on a real API server: they install with server-side apply, every Argo example round-trips
create → get with no field lost, the status subresource separates status from spec, and
`kubectl explain` documents the fields.

The CRDs are applied server-side (field manager `sluice-e2e-crds`) and left installed: other tests on
the same cluster may use them, and deleting a CRD deletes every object of its kind. Objects are made
only in this session's namespace; cluster-scoped ones get a unique name and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from .kube import api_client

REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION = "argoproj.io", "v1alpha1"
PLURALS = {
    "Workflow": "workflows",
    "WorkflowTemplate": "workflowtemplates",
    "ClusterWorkflowTemplate": "clusterworkflowtemplates",
    "CronWorkflow": "cronworkflows",
    "WorkflowTaskResult": "workflowtaskresults",
}
CLUSTER_SCOPED = {"ClusterWorkflowTemplate"}


class _KubeYamlLoader(yaml.SafeLoader):
    """YAML as kubectl reads it: timestamps stay strings (sigs.k8s.io/yaml does not make dates)."""


_KubeYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def argo_documents(root: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(root.rglob("*.yaml")):
        try:
            docs = list(yaml.load_all(path.read_text(), Loader=_KubeYamlLoader))
        except yaml.YAMLError:
            continue
        for index, doc in enumerate(docs):
            if (
                isinstance(doc, dict)
                and doc.get("kind") in PLURALS
                and doc.get("apiVersion") == f"{GROUP}/{VERSION}"
            ):
                found.append((f"{path.relative_to(root)}#{index}", doc))
    return found


def lost_fields(sent: Any, got: Any, path: str = "") -> list[str]:
    """Paths of what was sent and did not come back unchanged (extra fields that came back are fine)."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{path}: sent an object, got {type(got).__name__}"]
        lost = []
        for key, value in sent.items():
            if key not in got:
                lost.append(f"{path}.{key}: missing")
            else:
                lost += lost_fields(value, got[key], f"{path}.{key}")
        return lost
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [f"{path}: list changed"]
        lost = []
        for index, (a, b) in enumerate(zip(sent, got, strict=True)):
            lost += lost_fields(a, b, f"{path}[{index}]")
        return lost
    if sent != got or isinstance(sent, bool) != isinstance(got, bool):
        return [f"{path}: sent {sent!r}, got {got!r}"]
    return []


def test_lost_fields_reports_what_it_claims():
    assert lost_fields({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 1, "c": [1, 2], "d": 3}}) == []
    assert lost_fields({"a": {"b": 1}}, {"a": {}}) == [".a.b: missing"]
    assert lost_fields({"a": [1, 2]}, {"a": [1]}) == [".a: list changed"]
    assert lost_fields({"a": 1}, {"a": True}) == [".a: sent 1, got True"]


# --- fixtures -------------------------------------------------------------------------------------


def test_crds_install_server_side_and_are_established(kubectl, crds_installed):
    for name in crds_installed:
        crd = json.loads(kubectl("get", "crd", name, "-o", "json"))
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", name
        assert conditions.get("NamesAccepted") == "True", name
        # A non-structural schema would be reported here (and would block pruning).
        assert conditions.get("NonStructuralSchema") in (None, "False"), name


def test_short_names_are_served(kubectl, crds_installed, namespace):
    resources = kubectl("api-resources", "--api-group=argoproj.io")
    rows = {line.split()[0]: line.split() for line in resources.splitlines()[1:] if line.strip()}
    assert "wf" in rows["workflows"]
    assert "wftmpl" in rows["workflowtemplates"]
    assert "cwft" in rows["clusterworkflowtemplates"][1]
    assert "cwf" in rows["cronworkflows"][1]
    kubectl("get", "wf,wftmpl,cwf", "-n", namespace)
    kubectl("get", "cwft,clusterwftmpl,cronwf", "-n", namespace)


def test_kubectl_explain_documents_template_fields(kubectl, crds_installed):
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        text = kubectl("explain", "workflow.spec.templates", check=False)
        if "container" in text and "FIELDS" in text:
            break
        time.sleep(2)  # the OpenAPI document is rebuilt shortly after a CRD changes
    assert "KIND:" in text and "Workflow" in text, text[:500]
    assert "FIELDS:" in text
    for field, words in [
        ("container", "A container to run."),
        ("steps", "Groups of steps"),
        ("dag", "directed acyclic graph"),
        ("retryStrategy", "retried"),
    ]:
        assert field in text, field
        assert words in text, words
    deeper = kubectl("explain", "workflow.spec.templates.container.env")
    assert "List of environment variables" in deeper or "EnvVar" in deeper
    cron = kubectl("explain", "cronworkflow.spec.schedules")
    assert "Cron schedules" in cron


# --- round trips ----------------------------------------------------------------------------------


# Upstream examples whose YAML puts generateName inside `labels` (an indentation slip): they have no
# name, so Kubernetes itself refuses their metadata. Their spec is round-tripped under a generated name.
MALFORMED_METADATA = {"fun-with-gifs.yaml#0", "k8s-jobs.yaml#0"}


def _named(doc: dict[str, Any]) -> bool:
    meta = doc.get("metadata") or {}
    return bool(meta.get("name") or meta.get("generateName"))


def _prepare(doc: dict[str, Any], suffix: str) -> dict[str, Any]:
    body = copy.deepcopy(doc)
    if not _named(body):
        body["metadata"] = {"generateName": "malformed-example-"}
    meta = body.setdefault("metadata", {})
    meta.pop("namespace", None)
    if doc["kind"] in CLUSTER_SCOPED and "name" in meta:
        meta["name"] = f"{meta['name']}-{suffix}"[:253]
    return body


async def _create(api: client.CustomObjectsApi, body: dict[str, Any], namespace: str, dry_run: bool):
    plural = PLURALS[body["kind"]]
    kwargs = {"dry_run": "All"} if dry_run else {}
    if body["kind"] in CLUSTER_SCOPED:
        return await api.create_cluster_custom_object(GROUP, VERSION, plural, body, **kwargs)
    return await api.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body, **kwargs)


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """What must come back: everything but metadata the API server owns (name from generateName...)."""
    body = {k: v for k, v in doc.items() if k not in ("metadata", "status")}
    meta = doc.get("metadata", {})
    body["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
    return body


async def test_every_argo_example_round_trips_without_losing_a_field(
    kubeconfig, crds_installed, namespace, argo_examples
):
    """Server-side dry-run create of every example (admission, pruning, validation), then a real
    create → get of every one in this session's namespace (cluster-scoped ones renamed), deleted after.

    A controller running on this cluster may start one of the created workflows before it is deleted;
    that changes only its status, which is not compared.
    """
    documents = argo_documents(argo_examples)
    assert len(documents) > 150
    assert {where for where, doc in documents if not _named(doc)} == MALFORMED_METADATA
    suffix = uuid.uuid4().hex[:6]
    problems: list[str] = []
    created: list[tuple[str, str, str | None]] = []
    async with api_client(kubeconfig) as raw:
        api = client.CustomObjectsApi(raw)
        semaphore = asyncio.Semaphore(8)

        async def one(where: str, doc: dict[str, Any]) -> None:
            body = _prepare(doc, suffix)
            async with semaphore:
                try:
                    dry = await _create(api, body, namespace, dry_run=True)
                    problems.extend(f"{where} (dry-run): {p}" for p in lost_fields(_comparable(body), dry))
                    made = await _create(api, body, namespace, dry_run=False)
                    name = made["metadata"]["name"]
                    plural = PLURALS[doc["kind"]]
                    if doc["kind"] in CLUSTER_SCOPED:
                        created.append((plural, name, None))
                        got = await api.get_cluster_custom_object(GROUP, VERSION, plural, name)
                    else:
                        created.append((plural, name, namespace))
                        got = await api.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
                    problems.extend(f"{where} (get): {p}" for p in lost_fields(_comparable(body), got))
                except ApiException as err:
                    reason = err.body if isinstance(err.body, str) else str(err)
                    problems.append(f"{where}: refused ({err.status}): {reason[:400]}")

        try:
            await asyncio.gather(*(one(where, doc) for where, doc in documents))
        finally:
            for plural, name, ns in created:
                try:
                    if ns is None:
                        await api.delete_cluster_custom_object(GROUP, VERSION, plural, name)
                    else:
                        await api.delete_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
                except ApiException as err:
                    if err.status != 404:
                        raise
    assert problems == [], "\n".join(problems[:40])
    kinds = {doc["kind"] for _, doc in documents}
    assert {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"} <= kinds


# --- the status subresource -----------------------------------------------------------------------


async def test_status_is_a_subresource_of_workflow_and_cronworkflow(
    kubeconfig, kubectl, crds_installed, namespace
):
    """Status sent with a create or an update is ignored; only the status subresource writes it."""
    async with api_client(kubeconfig) as raw:
        api = client.CustomObjectsApi(raw)
        name = f"status-{uuid.uuid4().hex[:6]}"
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            # An instance ID no controller has: one installed on the cluster (an earlier test's) leaves it be.
            "metadata": {"name": name, "labels": {"workflows.argoproj.io/controller-instanceid": "nobody"}},
            "spec": {"entrypoint": "a", "templates": [{"name": "a", "suspend": {}}]},
            "status": {"phase": "Succeeded", "message": "forged"},
        }
        made = await api.create_namespaced_custom_object(GROUP, VERSION, namespace, "workflows", body)
        assert "status" not in made or made["status"].get("message") != "forged"
        made["status"] = {"phase": "Failed", "message": "forged again"}
        updated = await api.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, "workflows", name, made
        )
        assert (updated.get("status") or {}).get("message") != "forged again"
        patched = await api.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            "workflows",
            name,
            {"status": {"phase": "Running", "message": "via status"}},
            _content_type="application/merge-patch+json",
        )
        assert patched["status"] == {"phase": "Running", "message": "via status"}
        got = await api.get_namespaced_custom_object(GROUP, VERSION, namespace, "workflows", name)
        assert got["status"]["phase"] == "Running"
        assert got["spec"]["templates"] == body["spec"]["templates"]
        # Argo's printer columns: STATUS and MESSAGE from the status, AGE from status.startedAt.
        table = kubectl("get", "workflow", name, "-n", namespace).splitlines()
        assert table[0].split() == ["NAME", "STATUS", "AGE", "MESSAGE"], table
        assert table[1].split()[:2] == [name, "Running"] and "via status" in table[1], table
        await api.delete_namespaced_custom_object(GROUP, VERSION, namespace, "workflows", name)

        cron = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "CronWorkflow",
            "metadata": {"name": name},
            "spec": {
                "schedules": ["0 0 1 1 *"],
                "suspend": True,
                "workflowSpec": {"entrypoint": "a", "templates": [{"name": "a", "suspend": {}}]},
            },
            "status": {"phase": "Stopped"},
        }
        made = await api.create_namespaced_custom_object(GROUP, VERSION, namespace, "cronworkflows", cron)
        assert (made.get("status") or {}).get("phase") != "Stopped"
        patched = await api.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            "cronworkflows",
            name,
            {"status": {"phase": "Active", "succeeded": 2}},
            _content_type="application/merge-patch+json",
        )
        assert patched["status"] == {"phase": "Active", "succeeded": 2}
        await api.delete_namespaced_custom_object(GROUP, VERSION, namespace, "cronworkflows", name)


async def test_templates_and_task_results_keep_what_is_written(kubeconfig, crds_installed, namespace):
    """WorkflowTemplate has no status subresource (as in Argo); a WorkflowTaskResult keeps its outputs."""
    async with api_client(kubeconfig) as raw:
        api = client.CustomObjectsApi(raw)
        name = f"result-{uuid.uuid4().hex[:6]}"
        result = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "WorkflowTaskResult",
            "metadata": {"name": name, "labels": {"workflows.argoproj.io/workflow": "wf"}},
            "phase": "Succeeded",
            "outputs": {
                "parameters": [{"name": "p", "value": "1"}],
                "artifacts": [{"name": "a", "s3": {"key": "wf/pod/a.tgz"}}],
                "result": "hello",
                "exitCode": "0",
            },
            "progress": "1/1",
        }
        await api.create_namespaced_custom_object(GROUP, VERSION, namespace, "workflowtaskresults", result)
        got = await api.get_namespaced_custom_object(GROUP, VERSION, namespace, "workflowtaskresults", name)
        assert lost_fields(_comparable(result), got) == []
        await api.delete_namespaced_custom_object(GROUP, VERSION, namespace, "workflowtaskresults", name)
