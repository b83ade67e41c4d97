"""`sluice webhook` as a real process over real HTTPS: TLS, routes, AdmissionReview in and out,
malformed input, running-workflow updates, policy admission and defaulting patches."""

from __future__ import annotations

import copy
import http.client
import json
import socket
import ssl
import warnings

import jsonpatch
import pytest
import yaml
from test_webhook_support import Client, WebhookProcess, decode_patch, free_port, review


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webhook")
    defaults = tmp / "defaults.yaml"
    defaults.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "workflow-controller-configmap"},
                "data": {
                    "workflowDefaults": yaml.safe_dump(
                        {
                            "metadata": {"labels": {"team": "platform"}},
                            "spec": {"activeDeadlineSeconds": 300, "podGC": {"strategy": "OnPodSuccess"}},
                        }
                    )
                },
            }
        )
    )
    health = free_port()
    with WebhookProcess(
        tmp, defaults=defaults, extra=["--max-request-bytes", "200000", "--health-port", str(health)]
    ) as proc:
        proc.health_port = health
        yield proc


@pytest.fixture
def client(webhook):
    c = webhook.client()
    yield c
    c.close()


def running_workflow():
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "default"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]},
        "status": {"phase": "Running"},
    }


# ---- TLS ------------------------------------------------------------------------------------------


def test_the_generated_ca_verifies_the_serving_certificate_by_name_and_by_ip(webhook):
    for host in ("localhost", "127.0.0.1"):
        status, body = webhook.client(host).request("GET", "/healthz")
        assert (status, body) == (200, b"ok\n")
    names = {p.name for p in webhook.cert_dir.iterdir()}
    assert {"ca.crt", "tls.crt", "tls.key", "ca.key"} <= names
    assert (webhook.cert_dir / "tls.key").stat().st_mode & 0o077 == 0


def test_a_client_that_does_not_trust_the_ca_is_refused(webhook):
    conn = http.client.HTTPSConnection(
        "localhost", webhook.port, context=ssl.create_default_context(), timeout=10
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/healthz")
    conn.close()


def test_tls_older_than_1_2_is_refused(webhook):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(webhook.cert_dir / "ca.crt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", webhook.port), timeout=10) as raw,
        pytest.raises(ssl.SSLError) as refused,
    ):
        ctx.wrap_socket(raw, server_hostname="localhost")
    # The client did offer TLS 1.1 (it would say NO_PROTOCOLS_AVAILABLE otherwise); the server refused.
    assert refused.value.reason != "NO_PROTOCOLS_AVAILABLE"
    # The same client allowed TLS 1.2 gets through: the refusal above is about the version.
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    with (
        socket.create_connection(("127.0.0.1", webhook.port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


# ---- routes ---------------------------------------------------------------------------------------


def test_health_readiness_and_metrics(client):
    assert client.request("GET", "/healthz") == (200, b"ok\n")
    assert client.request("GET", "/readyz") == (200, b"ok\n")
    client.post("/validate", review(None, operation="DELETE", old={"metadata": {"name": "x"}}))
    status, body = client.request("GET", "/metrics")
    text = body.decode()
    assert status == 200
    assert (
        'sluice_webhook_requests_total{endpoint="validate",kind="Workflow",operation="DELETE",result="allowed"}'
        in text
    )
    assert 'sluice_webhook_request_duration_seconds_count{endpoint="validate"}' in text


def test_probes_and_metrics_on_the_plain_health_port(webhook):
    conn = http.client.HTTPConnection("127.0.0.1", webhook.health_port, timeout=10)
    for path, expected in (("/healthz", b"ok\n"), ("/readyz", b"ok\n")):
        conn.request("GET", path)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, expected)
    conn.request("GET", "/metrics")
    assert b"sluice_webhook_requests_total" in conn.getresponse().read()
    conn.request("POST", "/validate", body=b"{}")
    assert conn.getresponse().status in (404, 405)  # admission is only served over TLS
    conn.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "body is not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (json.dumps({"apiVersion": "v1", "kind": "AdmissionReview", "request": {}}).encode(), "apiVersion"),
        (
            json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(),
            "request must be",
        ),
        (
            json.dumps(
                {
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "request": {"kind": {"kind": "Workflow"}, "operation": "CREATE", "object": {}},
                }
            ).encode(),
            "request.uid",
        ),
        (
            json.dumps(
                {
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "request": {
                        "uid": "u",
                        "kind": {"kind": "Workflow"},
                        "operation": "CREATE",
                        "object": "text",
                    },
                }
            ).encode(),
            "request.object",
        ),
        (b"[" * 5000 + b"]" * 5000, "nested"),
    ],
)
def test_a_malformed_review_is_a_400_with_its_reason(client, body, reason):
    status, answer = client.post("/validate", body)
    assert status == 400
    assert answer["code"] == 400 and answer["reason"] == "BadRequest"
    assert reason in answer["message"]


def test_a_body_over_the_limit_is_a_413(client):
    status, answer = client.post("/validate", b'{"x": "' + b"a" * 300_000 + b'"}')
    assert status == 413
    assert "200,000-byte limit" in answer["message"]
    assert client.request("GET", "/healthz")[0] == 200  # the server is still there


def test_wrong_methods_and_paths(client):
    assert client.request("GET", "/validate")[0] == 405
    assert client.request("POST", "/nope", b"{}")[0] == 404


def test_uid_and_api_version_are_echoed(client):
    doc = review(None, operation="DELETE", old={"metadata": {"name": "x"}}, uid="my-uid-1")
    doc["apiVersion"] = "admission.k8s.io/v1beta1"
    status, answer = client.post("/validate", doc)
    assert status == 200
    assert answer == {
        "apiVersion": "admission.k8s.io/v1beta1",
        "kind": "AdmissionReview",
        "response": {"uid": "my-uid-1", "allowed": True},
    }


def test_other_kinds_are_allowed_untouched(client):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    for path in ("/validate", "/mutate"):
        status, answer = client.post(path, review(pod, kind="Pod", group=""))
        assert status == 200
        assert answer["response"] == {"uid": answer["response"]["uid"], "allowed": True}


# ---- UPDATE of a running Workflow -----------------------------------------------------------------


def test_a_running_workflow_may_be_suspended_and_stopped(client):
    old = running_workflow()
    new = copy.deepcopy(old)
    new["spec"]["suspend"] = True
    new["spec"]["shutdown"] = "Stop"
    new["metadata"]["labels"] = {"x": "y"}
    status, answer = client.post("/validate", review(new, operation="UPDATE", old=old))
    assert status == 200 and answer["response"]["allowed"] is True


def test_a_running_workflow_may_not_change_its_templates_or_entrypoint(client):
    old = running_workflow()
    new = copy.deepcopy(old)
    new["spec"]["templates"][0]["container"]["image"] = "evil:latest"
    new["spec"]["entrypoint"] = "other"
    new["spec"]["suspend"] = True
    status, answer = client.post("/validate", review(new, operation="UPDATE", old=old))
    assert status == 200
    response = answer["response"]
    assert response["allowed"] is False
    st = response["status"]
    assert (st["code"], st["reason"], st["details"]["kind"], st["details"]["name"]) == (
        422,
        "Invalid",
        "Workflow",
        "wf",
    )
    assert [c["field"] for c in st["details"]["causes"]] == ["spec.entrypoint", "spec.templates"]
    assert "spec.entrypoint" in st["message"] and "spec.templates" in st["message"]


# ---- WorkflowPolicy objects -----------------------------------------------------------------------


def policy(expression: str, message_expression: str | None = None) -> dict:
    rule = {"expression": expression, "message": "m"}
    if message_expression is not None:
        rule["messageExpression"] = message_expression
    return {
        "apiVersion": "sluice.dev/v1alpha1",
        "kind": "WorkflowPolicy",
        "metadata": {"name": "p"},
        "spec": {"validations": [rule, {"expression": "true", "action": "Sometimes"}]},
    }


def test_a_policy_whose_cel_does_not_compile_is_refused_with_every_field(client):
    doc = policy("containers.all(c, c.image.startsWith(", "'x' +")
    status, answer = client.post(
        "/validate", review(doc, kind="WorkflowPolicy", group="sluice.dev", namespace=None)
    )
    assert status == 200
    st = answer["response"]["status"]
    assert answer["response"]["allowed"] is False and st["code"] == 422
    fields = [c["field"] for c in st["details"]["causes"]]
    assert fields == [
        "spec.validations[0].expression",
        "spec.validations[0].messageExpression",
        "spec.validations[1].action",
    ]
    assert "does not compile" in st["details"]["causes"][0]["message"]


def test_a_policy_that_compiles_is_allowed(client):
    doc = policy("containers.all(c, c.image.startsWith('registry.corp/'))")
    doc["spec"]["validations"].pop()
    status, answer = client.post(
        "/validate", review(doc, kind="WorkflowPolicy", group="sluice.dev", namespace=None)
    )
    assert (status, answer["response"]["allowed"]) == (200, True)


# ---- /mutate --------------------------------------------------------------------------------------


def test_mutate_adds_only_absent_fields_and_the_patch_applies_to_the_raw_object(client):
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "hello-", "labels": {"team": "mine"}},
        "spec": {
            "entrypoint": "main",
            "podGC": {"deleteDelayDuration": "30s"},
            "templates": [{"name": "main", "container": {"image": "busybox"}}],
        },
    }
    status, answer = client.post("/mutate", review(wf, user="alice@corp.example"))
    assert status == 200 and answer["response"]["allowed"] is True
    assert answer["response"]["patchType"] == "JSONPatch"
    patched = jsonpatch.apply_patch(wf, decode_patch(answer))
    assert patched["metadata"]["labels"] == {
        "team": "mine",  # the user's value wins over the default
        "workflows.argoproj.io/creator": "alice-corp.example",
        "workflows.argoproj.io/creator-email": "alice.at.corp.example",
    }
    assert patched["spec"]["activeDeadlineSeconds"] == 300
    assert patched["spec"]["podGC"] == {"deleteDelayDuration": "30s", "strategy": "OnPodSuccess"}
    assert patched["spec"]["templates"] == wf["spec"]["templates"]
    # Every operation adds: nothing the user wrote is replaced or removed.
    assert {op["op"] for op in decode_patch(answer)} == {"add"}


def test_mutate_sends_no_patch_for_an_empty_diff_and_dry_run_gets_the_same_answer(client):
    tmpl = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "t", "labels": {"workflows.argoproj.io/creator": "bob"}},
        "spec": {"templates": [{"name": "main", "container": {"image": "busybox"}}]},
    }
    status, answer = client.post("/mutate", review(tmpl, kind="WorkflowTemplate", user="bob"))
    assert status == 200
    assert "patch" not in answer["response"] and "patchType" not in answer["response"]
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": {}}
    answers = [client.post("/mutate", review(wf, dry_run=flag, uid="same"))[1] for flag in (False, True)]
    assert answers[0] == answers[1]
    assert decode_patch(answers[0])


def test_a_client_can_send_many_reviews_on_one_connection(webhook):
    c: Client = webhook.client()
    for i in range(50):
        status, answer = c.post("/mutate", review({"metadata": {"name": f"w{i}"}, "spec": {}}, uid=f"u{i}"))
        assert status == 200 and answer["response"]["uid"] == f"u{i}"
    c.close()


def test_metric_labels_come_from_a_closed_set(client):
    for i in range(20):
        odd = {"apiVersion": "x/v1", "kind": f"Odd{i}", "metadata": {"name": "o"}}
        assert client.post("/validate", review(odd, kind=f"Odd{i}", group="x"))[0] == 200
    text = client.request("GET", "/metrics")[1].decode()
    assert "Odd" not in text
    assert 'kind="other",operation="CREATE",result="allowed"} ' in text
