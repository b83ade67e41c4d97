"""`sluice ui` on a cluster: a real `sluice ui` process with a ServiceAccount's own kubeconfig (its RBAC,
the roles the project ships: manifests/base/rbac-users.yaml), against the real kube-apiserver.

As in tests/e2e/cli/ (whose helpers are reused), no controller runs these workflows: the test
writes the statuses a controller would, so what is shown is what the UI reads, watches and sends.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import yaml

from tests.e2e.cli.support import (
    INSTANCE,
    get,
    service_account_kubeconfig,
    set_status,
    step_pod,
    suspended_at_gate,
    workflow_file,
)
from tests.integration.ui_support import events, http, ui_server, wait_for

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {
    r["metadata"]["name"]: r["rules"]
    for r in yaml.safe_load_all((REPO / "manifests" / "base" / "rbac-users.yaml").read_text())
    if r
}
# what Kubernetes' built-in `view` role adds, and the shipped role is aggregated into: the pods' logs
POD_LOGS = [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]


@pytest.fixture(scope="module")
def ns(kubectl):
    name = f"sluice-ui-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def accounts(kubectl, kubeconfig, ns, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-accounts")
    return {
        "viewer": service_account_kubeconfig(
            kubectl, kubeconfig, ns, "viewer", SHIPPED["sluice-workflows-view"] + POD_LOGS, tmp / "viewer"
        ),
        "approver": service_account_kubeconfig(
            kubectl, kubeconfig, ns, "approver", SHIPPED["sluice-workflows-approve"], tmp / "approver"
        ),
    }


def apply(kubectl, ns, *objects):
    kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump_all(objects))


def test_a_viewer_sees_the_list_graph_live_changes_logs_and_templates_but_no_action(
    kubectl, ns, accounts, tmp_path
):
    kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, "seen")))
    suspended_at_gate(kubectl, ns, "seen")
    apply(
        kubectl,
        ns,
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "WorkflowTemplate",
            "metadata": {"name": "tpl"},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
        },
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "CronWorkflow",
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 3 * * *",
                "suspend": True,
                "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
            },
        },
    )
    with ui_server(tmp_path / "home", "--kubeconfig", str(accounts["viewer"])) as url:
        status, info = http(f"{url}/api/info")
        assert info == {"mode": "cluster", "namespace": ns}  # the kubeconfig context's namespace
        status, body = http(f"{url}/api/workflows")
        assert status == 200 and [w["name"] for w in body["items"]] == ["seen"]
        assert body["items"][0]["phase"] == "Running"
        status, body = http(f"{url}/api/workflows?phase=Failed")
        assert body["items"] == []
        # every namespace: the viewer's RoleBinding is in one namespace, so the API server refuses
        status, body = http(f"{url}/api/workflows?namespace=")
        assert status == 403 and "forbidden" in body["error"].lower()

        status, body = http(f"{url}/api/workflows/{ns}/seen")
        assert status == 200
        assert {n["displayName"]: n["phase"] for n in body["graph"]["nodes"]} == {
            "seen": "Running",
            "approve": "Running",
        }
        assert [n["displayName"] for n in body["waiting"]] == ["approve"]
        # the gate is waiting, but this user may not resume it (nor anything else): nothing is offered
        assert not any(body["actions"].values()), body["actions"]
        status, body = http(f"{url}/api/workflows/{ns}/seen/resume", "POST", {"parameters": {"answer": "x"}})
        assert status == 403

        stream = events(f"{url}/api/workflows/{ns}/seen/events")
        event, first = next(stream)
        assert event == "workflow" and first["summary"]["phase"] == "Running"
        set_status(kubectl, ns, "seen", {"phase": "Failed", "message": "by the test"})  # as a controller
        event, second = next(stream)  # from the watch: no reload, and the unchanged state is not sent twice
        assert event == "workflow" and second["summary"]["phase"] == "Failed"
        assert second["summary"]["message"] == "by the test"
        stream.close()

        status, body = http(f"{url}/api/workflowtemplates")
        assert status == 200 and [t["metadata"]["name"] for t in body["items"]] == ["tpl"]
        status, body = http(f"{url}/api/cronworkflows")
        assert status == 200 and [c["metadata"]["name"] for c in body["items"]] == ["nightly"]
        assert http(f"{url}/api/workflows/{ns}/nope")[0] == 404


def test_the_logs_of_a_workflow_pod_through_the_ui(kubectl, ns, accounts, tmp_path):
    kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, "logged")))
    node = {"id": "logged", "name": "logged", "displayName": "say", "type": "Pod", "phase": "Running"}
    set_status(kubectl, ns, "logged", {"phase": "Running", "nodes": {"logged": node}})
    pod = step_pod("logged", "logged", "echo first; echo second")
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    # generous: on a loaded machine a cached image's pod has taken minutes to run
    kubectl(
        "wait",
        "--for=jsonpath={.status.phase}=Succeeded",
        "pod/logged",
        "-n",
        ns,
        "--timeout=400s",
        timeout=410,
    )
    with ui_server(tmp_path / "home", "--kubeconfig", str(accounts["viewer"])) as url:
        assert http(f"{url}/api/workflows/{ns}/logged/logs?node=say") == (200, "first\nsecond\n")
        assert http(f"{url}/api/workflows/{ns}/logged/logs") == (200, "say: first\nsay: second\n")
        status, node = http(f"{url}/api/workflows/{ns}/logged/nodes/say")
        assert status == 200 and node["id"] == "logged"


def test_an_approver_resumes_the_gate_from_the_ui_and_may_do_nothing_else(kubectl, ns, accounts, tmp_path):
    kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, "gate")))
    suspended_at_gate(kubectl, ns, "gate")
    assert (
        get(kubectl, ns, "gate")["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"]
        == INSTANCE
    )
    with ui_server(tmp_path / "home", "--kubeconfig", str(accounts["approver"])) as url:
        status, body = http(f"{url}/api/workflows/{ns}/gate")
        assert status == 200
        offered = {a for a, ok in body["actions"].items() if ok}
        assert offered == {"resume", "stop-node"}  # the approver's Role: workflows/status only
        status, body = http(f"{url}/api/workflows/{ns}/gate/stop", "POST", {})
        assert status == 403 and "not possible" in body["error"]
        assert "shutdown" not in get(kubectl, ns, "gate")["spec"]

        status, body = http(
            f"{url}/api/workflows/{ns}/gate/resume",
            "POST",
            {"node": "gate-1", "parameters": {"answer": "yes"}},
        )
        assert status == 200, body
        assert body["message"] == "workflow gate resumed (approve)"
        node = get(kubectl, ns, "gate")["status"]["nodes"]["gate-1"]
        assert node["phase"] == "Succeeded" and node["outputs"]["parameters"][0]["value"] == "yes"

        def nothing_waits():
            status, body = http(f"{url}/api/workflows/{ns}/gate")
            return status == 200 and not body["actions"]["resume"] and body

        assert wait_for(nothing_waits, 60, "the gate to be gone from the actions")["waiting"] == []


def failed_status(name: str) -> dict:
    def node(suffix, kind, phase, **extra):
        nid = f"{name}{suffix}"
        return nid, {
            "id": nid,
            "name": nid,
            "displayName": suffix.strip("-") or name,
            "type": kind,
            "phase": phase,
            **extra,
        }

    nodes = dict(
        [
            node("", "Steps", "Failed", children=[f"{name}-0"]),
            node("-0", "StepGroup", "Failed", children=[f"{name}-a", f"{name}-b"], boundaryID=name),
            node("-a", "Pod", "Succeeded", boundaryID=name),
            node("-b", "Pod", "Failed", boundaryID=name),
        ]
    )
    return {
        "phase": "Failed",
        "startedAt": "2026-12-06T06:00:00Z",
        "finishedAt": "2026-12-06T06:01:00Z",
        "nodes": nodes,
    }


def test_an_admin_stops_terminates_retries_and_resubmits_from_the_ui(kubectl, kubeconfig, ns, tmp_path):
    rules = (
        SHIPPED["sluice-workflows-edit"]
        + SHIPPED["sluice-workflows-approve"]
        + [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "delete"]}]
    )
    admin = service_account_kubeconfig(kubectl, kubeconfig, ns, "admin", rules, tmp_path / "admin")
    for name in ("running", "failed"):
        kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, name)))
    suspended_at_gate(kubectl, ns, "running")
    set_status(kubectl, ns, "failed", failed_status("failed"))
    with ui_server(tmp_path / "home", "--kubeconfig", str(admin)) as url:

        def offered(name):
            status, body = http(f"{url}/api/workflows/{ns}/{name}")
            assert status == 200, body
            return {a for a, ok in body["actions"].items() if ok}

        assert offered("running") == {"resume", "stop-node", "stop", "terminate"}
        assert offered("failed") == {"retry", "resubmit"}  # a finished workflow cannot be stopped

        status, body = http(f"{url}/api/workflows/{ns}/running/stop", "POST", {})
        assert status == 200 and body["message"] == "workflow running stopped", body
        assert get(kubectl, ns, "running")["spec"]["shutdown"] == "Stop"
        status, body = http(f"{url}/api/workflows/{ns}/running/terminate", "POST", {})
        assert status == 200, body
        assert get(kubectl, ns, "running")["spec"]["shutdown"] == "Terminate"

        status, body = http(
            f"{url}/api/workflows/{ns}/failed/resubmit", "POST", {"parameters": {"who": "again"}}
        )
        assert status == 200, body
        new = body["name"]
        assert new.startswith("failed-") and body["message"] == f"resubmitted as {new}"
        created = get(kubectl, ns, new)
        assert created["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"] == "failed"
        assert created["spec"]["arguments"]["parameters"] == [{"name": "who", "value": "again"}]

        status, body = http(f"{url}/api/workflows/{ns}/failed/retry", "POST", {})
        assert status == 200 and body["message"].startswith("workflow failed retried"), body
        retried = get(kubectl, ns, "failed")
        assert retried["status"]["phase"] == "Running"
        assert retried["status"]["nodes"]["failed-a"]["phase"] == "Succeeded"  # kept
        assert "failed-b" not in retried["status"]["nodes"]  # to run again
        assert offered("failed") == {"stop", "terminate"}


def token_in(kubeconfig_file: Path) -> str:
    return yaml.safe_load(kubeconfig_file.read_text())["users"][0]["user"]["token"]


def test_client_mode_acts_with_each_viewers_own_token(kubectl, kubeconfig, ns, accounts, tmp_path):
    """--auth-mode client (the in-cluster Deployment's mode): the server's kubeconfig is an admin's, yet
    every request acts with the token it carries, and none without one."""
    kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, "client-gate")))
    suspended_at_gate(kubectl, ns, "client-gate")
    viewer, approver = token_in(accounts["viewer"]), token_in(accounts["approver"])
    argv = ("--auth-mode", "client", "--kubeconfig", str(kubeconfig), "-n", ns)
    with ui_server(tmp_path / "home", *argv) as url:
        gate = f"{url}/api/workflows/{ns}/client-gate"
        status, body = http(f"{url}/api/workflows")
        assert status == 401 and "log in" in body["error"]
        status, page = http(f"{url}/workflows")  # a page sends the browser to log in
        assert status == 200 and "Log in with your token" in page
        assert (
            http(gate, headers={"Authorization": "Bearer not-a-token"})[0] == 401
        )  # the API server's answer

        status, body = http(gate, headers={"Authorization": f"Bearer {viewer}"})
        assert status == 200 and body["summary"]["phase"] == "Running"
        assert not any(body["actions"].values())  # the viewer's RBAC, not the server's admin kubeconfig

        jar = CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def login(token):
            form = urllib.parse.urlencode({"token": token, "next": f"/workflows/{ns}/client-gate"}).encode()
            try:
                with browser.open(f"{url}/login", data=form, timeout=60) as resp:
                    return resp.status, resp.geturl(), resp.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.geturl(), exc.read().decode()

        status, _, page = login("not-a-token")
        assert status == 401 and "the cluster refused this token" in page and not list(jar)
        status, where, page = login(approver)
        assert (
            status == 200
            and where.endswith(f"/workflows/{ns}/client-gate")
            and 'data-page="workflow"' in page
        )
        (cookie,) = list(jar)
        assert cookie.name == "sluice-token" and cookie.has_nonstandard_attr("HttpOnly")

        with browser.open(gate, timeout=60) as resp:
            offered = {a for a, ok in json.loads(resp.read())["actions"].items() if ok}
        assert offered == {"resume", "stop-node"}  # the approver's
        request = urllib.request.Request(
            f"{gate}/resume",
            data=json.dumps({"node": "client-gate-1", "parameters": {"answer": "from the ui"}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with browser.open(request, timeout=60) as resp:
            assert resp.status == 200
        node = get(kubectl, ns, "client-gate")["status"]["nodes"]["client-gate-1"]
        assert node["phase"] == "Succeeded" and node["outputs"]["parameters"][0]["value"] == "from the ui"


def test_the_in_cluster_manifest_passes_the_restricted_pod_security_standard(kubectl):
    """manifests/ui/sluice-ui.yaml, checked by the API server (dry run) in a namespace enforcing the
    restricted standard: any warning fails (--warnings-as-errors)."""
    name = f"sluice-ui-psa-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    try:
        kubectl(
            "label",
            "namespace",
            name,
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/warn=restricted",
        )
        out = kubectl(
            "apply",
            "--dry-run=server",
            "--warnings-as-errors",
            "-n",
            name,
            "-f",
            str(REPO / "manifests" / "ui" / "sluice-ui.yaml"),
        )
        assert "deployment.apps/sluice-ui created (server dry run)" in out
        assert "serviceaccount/sluice-ui created (server dry run)" in out
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_an_artifact_is_downloaded_from_the_store_with_the_viewers_own_credentials(
    kubectl, kubeconfig, ns, accounts, tmp_path
):
    """The quick-start's MinIO (the default namespace's artifact-repositories): an object put there by
    the executor's driver comes back through the UI, its credentials read with the viewer's own token;
    a viewer who may not read the Secret gets a 403 saying so."""
    import base64
    import io
    import tarfile
    import tempfile

    from sluice_executor.drivers.s3 import S3Driver

    cm = json.loads(kubectl("get", "configmap", "artifact-repositories", "-n", "default", "-o", "json"))
    key_name = cm["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    repo = yaml.safe_load(cm["data"][key_name])
    secret_name = repo["s3"]["accessKeySecret"]["name"]
    secret = json.loads(kubectl("get", "secret", secret_name, "-n", "default", "-o", "json"))
    kubectl(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input=json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret_name}, "data": secret["data"]}
        ),
    )
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}

    class Creds:
        def get(self, selector):
            return values[selector["key"]]

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"made for the ui's e2e test\n"
        info = tarfile.TarInfo("report/summary.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "report.tgz"
    archive.write_bytes(buffer.getvalue())
    key = f"sluice-ui-e2e/{uuid.uuid4().hex}/report.tgz"
    location = {**repo["s3"], "key": key}
    driver = S3Driver(Creds())
    driver.put(archive, location)
    try:
        kubectl("apply", "-n", ns, "-f", str(workflow_file(tmp_path, "art")))
        node = {
            "id": "art",
            "name": "art",
            "displayName": "art",
            "type": "Pod",
            "phase": "Succeeded",
            "outputs": {"artifacts": [{"name": "report", "path": "/tmp/report", "s3": {"key": key}}]},
        }
        status = {
            "phase": "Succeeded",
            "artifactRepositoryRef": {
                "configMap": "artifact-repositories",
                "key": key_name,
                "namespace": ns,
                "artifactRepository": repo,
            },
            "nodes": {"art": node},
        }
        set_status(kubectl, ns, "art", status)
        reader_rules = SHIPPED["sluice-workflows-view"] + [
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [secret_name], "verbs": ["get"]}
        ]
        reader = service_account_kubeconfig(
            kubectl, kubeconfig, ns, "reader", reader_rules, tmp_path / "reader"
        )
        link = f"/api/workflows/{ns}/art/artifacts/art/outputs/report"
        copies_before = set(Path(tempfile.gettempdir()).glob("sluice-ui-artifact-*"))
        with ui_server(tmp_path / "home", "--kubeconfig", str(reader)) as url:
            resp = urllib.request.urlopen(f"{url}{link}", timeout=120)
            with resp:
                assert resp.status == 200 and 'filename="report.tgz"' in resp.headers["Content-Disposition"]
                assert resp.read() == archive.read_bytes()
        with ui_server(tmp_path / "home", "--kubeconfig", str(accounts["viewer"])) as url:
            status, body = http(f"{url}{link}")
            assert status == 403, body
            assert (
                f"the store's credentials (Secret {secret_name}, accessKeySecret) cannot be read"
                in body["error"]
            )
        # the temporary copies are removed once sent (the UI runs with this machine's temporary folder)
        assert set(Path(tempfile.gettempdir()).glob("sluice-ui-artifact-*")) <= copies_before
    finally:
        import obstore

        obstore.delete(driver._store(location), key)
