"""manifests/webhook: rendered with `kubectl kustomize` and checked against the conventions
(manifests/CONVENTIONS.md) and against the program itself (the Deployment's flags parse, the probes
and webhook paths are routes the server has, the Service targets ports the container exposes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from webhook.server import build_app, build_health_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def docs():
    kubectl = shutil.which("kubectl") or str(REPO / ".cluster" / "bin" / "kubectl")
    if not Path(kubectl).exists():
        pytest.fail("kubectl is needed to render manifests/webhook")
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO / "manifests" / "webhook")],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(out) if d}


def test_every_object_is_labelled_and_namespaced(docs):
    for (kind, name), d in docs.items():
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "sluice", name
        assert (
            labels["app.kubernetes.io/name"] == "sluice-webhook"
            and labels["app.kubernetes.io/component"] == "webhook"
        )
        if kind in ("Deployment", "Service", "PodDisruptionBudget", "Role", "RoleBinding"):
            assert d["metadata"]["namespace"] == "sluice", name


def test_deployment_is_restricted_probed_and_highly_available(docs):
    dep = docs[("Deployment", "sluice-webhook")]
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(c["resources"]["requests"]) == set(c["resources"]["limits"]) == {"cpu", "memory"}
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"https": 8443, "health": 8081}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert c["startupProbe"]["httpGet"]["port"] == "health"
    for v in pod["volumes"]:
        assert v["emptyDir"]["sizeLimit"]
    pdb = docs[("PodDisruptionBudget", "sluice-webhook")]
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]


def test_the_deployment_flags_are_the_programs(docs):
    from sluice.cli import build_parser

    c = docs[("Deployment", "sluice-webhook")]["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["sluice"]
    args = build_parser().parse_args(c["args"])
    assert (args.command, args.port, args.health_port, args.cert_secret) == (
        "webhook",
        8443,
        8081,
        "sluice-webhook-tls",
    )
    assert args.defaults_configmap == "sluice-workflow-defaults"
    hooks = docs[("ValidatingWebhookConfiguration", "sluice-webhook")]["webhooks"]
    assert args.deadline < min(h["timeoutSeconds"] for h in hooks)
    assert args.webhook_configurations == "sluice-webhook"


def test_the_service_reaches_the_container_ports(docs):
    svc = docs[("Service", "sluice-webhook")]
    c = docs[("Deployment", "sluice-webhook")]["spec"]["template"]["spec"]["containers"][0]
    names = {p["name"] for p in c["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= names
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]}["https"] == 443


def test_webhook_configurations(docs):
    app_routes = {(r.method, r.resource.canonical) for r in _app_routes()}
    for kind, path in (
        ("ValidatingWebhookConfiguration", "/validate"),
        ("MutatingWebhookConfiguration", "/mutate"),
    ):
        (hook,) = docs[(kind, "sluice-webhook")]["webhooks"]
        assert hook["sideEffects"] == "None"
        assert hook["admissionReviewVersions"] == ["v1"]
        assert 1 <= hook["timeoutSeconds"] <= 10
        assert hook["failurePolicy"] in ("Fail", "Ignore")
        assert hook["clientConfig"]["service"] == {
            "name": "sluice-webhook",
            "namespace": "sluice",
            "path": path,
            "port": 443,
        }
        assert ("POST", path) in app_routes
        (expr,) = hook["namespaceSelector"]["matchExpressions"]
        assert expr == {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["kube-system", "sluice"],
        }
        resources = {r for rule in hook["rules"] for r in rule["resources"]}
        assert {"workflows", "workflowtemplates", "cronworkflows", "clusterworkflowtemplates"} <= resources
        assert "caBundle" not in hook["clientConfig"]  # the webhook patches it in
    validating = docs[("ValidatingWebhookConfiguration", "sluice-webhook")]["webhooks"][0]
    assert validating["failurePolicy"] == "Fail"
    assert any("workflowpolicies" in rule["resources"] for rule in validating["rules"])


def _app_routes():
    from webhook.admission import Admission
    from webhook.policy.cel import CelPython
    from webhook.policy.engine import PolicySet
    from webhook.sources import TemplateStore

    return list(build_app(Admission(TemplateStore(), PolicySet(CelPython()))).router.routes())


def test_health_app_serves_the_probe_paths():
    from kube.health import Readiness
    from webhook.metrics import Metrics

    paths = {r.resource.canonical for r in build_health_app(Metrics(), Readiness()).router.routes()}
    assert {"/healthz", "/readyz", "/metrics"} <= paths


def test_rbac_is_narrowed_by_name(docs):
    role = docs[("Role", "sluice-webhook-tls")]
    for rule in role["rules"]:
        if set(rule["verbs"]) - {"create"}:
            assert rule["resourceNames"] == ["sluice-webhook-tls"]
    cluster = docs[("ClusterRole", "sluice-webhook-configurations")]
    assert cluster["rules"][0]["resourceNames"] == ["sluice-webhook"]
    assert set(cluster["rules"][0]["verbs"]) == {"get", "patch"}


def test_network_policy_admits_only_the_webhook_and_probe_ports(docs):
    """Issue 13: in, the container's https and health ports only; out, the API server and DNS only."""
    policy = docs[("NetworkPolicy", "sluice-webhook")]
    dep = docs[("Deployment", "sluice-webhook")]
    assert policy["spec"]["podSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    container_ports = {p["containerPort"] for p in dep["spec"]["template"]["spec"]["containers"][0]["ports"]}
    ingress = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ingress == container_ports == {8443, 8081}
    egress = {(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert egress == {("TCP", 443), ("TCP", 6443), ("UDP", 53), ("TCP", 53)}
