"""The cluster verbs' pure parts: argument parsing, kubeconfig choice, submit options, list filters,
output formatting, one-line API errors, resume patches (sluice/cluster.py, sluice/output.py,
sluice/commands/*)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from kube.rest import ApiError
from sluice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE, build_parser
from sluice.cluster import CliError, api_error_line, exit_code_for, kubeconfig_path, parse_parameters

NOW = 1_796_000_000.0  # 2026-11-29T...Z


def iso(offset: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(NOW + offset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wf(name, phase=None, created=-60.0, finished=None, **spec):
    status = {"phase": phase} if phase else {}
    if finished is not None:
        status["startedAt"] = iso(finished - 30)
        status["finishedAt"] = iso(finished)
    return {"metadata": {"name": name, "creationTimestamp": iso(created)}, "spec": spec, "status": status}


# --- parsing ------------------------------------------------------------------------------------------


def test_every_cluster_verb_takes_the_cluster_flags():
    parser = build_parser()
    for argv in (
        ["submit", "f.yaml"],
        ["list"],
        ["get", "x"],
        ["delete", "x"],
        ["wait", "x"],
        ["watch", "x"],
        ["logs", "x"],
        ["suspend", "x"],
        ["resume", "x"],
        ["stop", "x"],
        ["terminate", "x"],
        ["retry", "x"],
        ["resubmit", "x"],
        ["template", "list"],
        ["cron", "list"],
        ["cron", "suspend", "x"],
    ):
        args = parser.parse_args([*argv, "-n", "ns", "--kubeconfig", "/k", "--context", "c"])
        assert (args.namespace, args.kubeconfig, args.context) == ("ns", "/k", "c"), argv
        assert callable(args.run)


def test_submit_flags_have_argos_names():
    args = build_parser().parse_args(
        [
            "submit",
            "a.yaml",
            "-p",
            "x=1",
            "--parameter-file",
            "p.yaml",
            "--entrypoint",
            "main",
            "--generate-name",
            "g-",
            "--serviceaccount",
            "sa",
            "--server-dry-run",
            "-o",
            "json",
            "--wait",
            "-l",
            "team=a",
        ]
    )
    assert args.parameter == ["x=1"] and args.parameter_file == "p.yaml" and args.entrypoint == "main"
    assert args.generate_name == "g-" and args.serviceaccount == "sa" and args.server_dry_run
    assert args.output == "json" and args.wait and args.labels == "team=a"


def test_wait_and_watch_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["submit", "a.yaml", "--wait", "--watch"])
    assert exc.value.code == EXIT_USAGE


def test_submit_needs_files_or_from(capsys):
    from sluice.cli import main

    assert main(["submit"]) == EXIT_USAGE
    assert "FILE(s) or --from" in capsys.readouterr().err


def test_kubeconfig_is_chosen_as_kubectl_chooses(tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_text("{}")
    two.write_text("{}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", f"{one}:{tmp_path / 'missing'}:{two}")
    assert kubeconfig_path(argparse.Namespace(kubeconfig=None)) == f"{one}:{two}"
    assert kubeconfig_path(argparse.Namespace(kubeconfig="/explicit")) == "/explicit"
    monkeypatch.delenv("KUBECONFIG")
    assert kubeconfig_path(argparse.Namespace(kubeconfig=None)) is None
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("{}")
    assert kubeconfig_path(argparse.Namespace(kubeconfig=None)) == str(tmp_path / ".kube" / "config")


def test_the_namespace_comes_from_the_context(tmp_path):
    from sluice.cluster import context_namespace

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {"name": "a", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}},
            {"name": "b", "context": {"cluster": "c", "user": "u"}},
        ],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    assert context_namespace(str(path), None) == "team-a"
    assert context_namespace(str(path), "b") is None
    with pytest.raises(CliError, match="no context 'zz'") as exc:
        context_namespace(str(path), "zz")
    assert exc.value.code == EXIT_USAGE


def test_a_missing_kubeconfig_is_one_line_and_exit_4(capsys):
    from sluice.cli import main

    assert main(["list", "--kubeconfig", "/nonexistent/kubeconfig"]) == EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert err == "sluice list: kubeconfig /nonexistent/kubeconfig does not exist\n"


@pytest.mark.parametrize("value", ["novalue", "=x", ""])
def test_parameters_need_name_equals_value(value):
    with pytest.raises(CliError, match="NAME=VALUE") as exc:
        parse_parameters([value])
    assert exc.value.code == EXIT_USAGE


# --- errors -------------------------------------------------------------------------------------------


def test_a_422_shows_every_field_path_on_one_line():
    causes = [
        {"type": "FieldValueInvalid", "field": f"spec.templates[{i}].name", "message": f"bad {i}"}
        for i in range(30)
    ]
    err = ApiError(
        422,
        "Invalid",
        'admission webhook "v.sluice.dev" denied the request: Workflow "w" is invalid (30 problems): ...',
        causes,
    )
    line = api_error_line(err)
    assert "\n" not in line
    assert line.startswith('422 Invalid: Workflow "w" is invalid: spec.templates[0].name: bad 0; ')
    assert all(f"spec.templates[{i}].name: bad {i}" in line for i in range(30))
    assert exit_code_for(err) == EXIT_FAILED


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, EXIT_NOT_FOUND),
        (403, EXIT_UNREACHABLE),
        (401, EXIT_UNREACHABLE),
        (409, EXIT_FAILED),
        (500, EXIT_UNREACHABLE),
        (0, EXIT_UNREACHABLE),
    ],
)
def test_exit_codes_follow_the_status(status, code):
    assert exit_code_for(ApiError(status, "R", "m")) == code


def test_an_error_without_causes_is_its_message_on_one_line():
    assert (
        api_error_line(ApiError(409, "AlreadyExists", 'workflows "x"\n already exists'))
        == '409 AlreadyExists: workflows "x" already exists'
    )


# --- submit -------------------------------------------------------------------------------------------


def submit_args(*argv):
    return build_parser().parse_args(["submit", "f.yaml", *argv])


def test_submit_options_apply_to_the_workflow(tmp_path):
    from sluice.commands.submit import apply_options

    params = tmp_path / "p.yaml"
    params.write_text("b: from-file\nc: {k: 1}\n")
    doc = {
        "kind": "Workflow",
        "metadata": {"generateName": "x-"},
        "spec": {"arguments": {"parameters": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}},
    }
    out = apply_options(
        doc,
        submit_args(
            "-p",
            "a=new",
            "-p",
            "d=added",
            "--parameter-file",
            str(params),
            "--entrypoint",
            "e",
            "--name",
            "fixed",
            "--serviceaccount",
            "sa",
            "-l",
            "team=a,tier=b",
        ),
    )
    assert out["spec"]["arguments"]["parameters"] == [
        {"name": "a", "value": "new"},
        {"name": "b", "value": "from-file"},
        {"name": "c", "value": "{k: 1}"},
        {"name": "d", "value": "added"},
    ]
    assert out["spec"]["entrypoint"] == "e" and out["spec"]["serviceAccountName"] == "sa"
    assert out["metadata"] == {"name": "fixed", "labels": {"team": "a", "tier": "b"}}
    assert doc["metadata"] == {"generateName": "x-"}  # untouched


def test_submit_refuses_files_that_are_not_workflows_before_sending(tmp_path):
    from sluice.commands.submit import load_documents

    path = tmp_path / "two.yaml"
    path.write_text("kind: Workflow\nmetadata: {name: a}\n---\nkind: WorkflowTemplate\nmetadata: {name: b}\n")
    with pytest.raises(CliError, match="document 2 is a WorkflowTemplate, not a Workflow") as exc:
        load_documents([str(path)])
    assert exc.value.code == EXIT_USAGE
    with pytest.raises(CliError, match="not YAML"):
        (tmp_path / "bad.yaml").write_text("a: [")
        load_documents([str(tmp_path / "bad.yaml")])


def test_submit_dry_run_prints_the_workflow_and_sends_nothing(tmp_path, capsys):
    from sluice.cli import main

    path = tmp_path / "w.yaml"
    path.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: w-}\n"
        "spec: {entrypoint: main}\n"
    )
    assert (
        main(["submit", str(path), "--dry-run", "-p", "x=1", "-o", "json", "--kubeconfig", "/nonexistent"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["spec"]["arguments"]["parameters"] == [{"name": "x", "value": "1"}]


@pytest.mark.parametrize("ref", ["workflowtemplate", "nothing/x", "workflowtemplate/"])
def test_bad_from_references_are_usage_errors(ref):
    import asyncio

    from sluice.commands.submit import from_reference

    with pytest.raises(CliError, match="--from expects") as exc:
        asyncio.run(from_reference(None, ref))
    assert exc.value.code == EXIT_USAGE


# --- list / output --------------------------------------------------------------------------------------


def list_args(*argv):
    return build_parser().parse_args(["list", *argv])


def test_list_filters():
    from sluice.commands.list import select

    flows = [
        wf("run", "Running"),
        wf("new", None, created=-5),
        wf("ok", "Succeeded", created=-7200, finished=-3600),
        wf("bad", "Failed", created=-600, finished=-300),
        wf("err", "Error", created=-86400 * 3, finished=-86400 * 2),
    ]
    names = lambda *argv: [w["metadata"]["name"] for w in select(flows, list_args(*argv), NOW)]  # noqa: E731
    assert names() == ["new", "run", "bad", "ok", "err"]  # newest first
    assert names("--running") == ["new", "run"]
    assert names("--completed") == ["bad", "ok", "err"]
    assert names("--status", "failed,error") == ["bad", "err"]
    assert names("--completed", "--status", "Succeeded") == ["ok"]
    assert names("--older", "30m") == ["ok", "err"]
    assert names("--older", "1d") == ["err"]
    assert names("--since", "15m") == ["new", "run", "bad"]
    assert names("--prefix", "r") == ["run"]
    assert names("--prefix", "e", "--completed") == ["err"]


def test_logs_grep_is_a_go_regexp_and_a_bad_one_is_a_usage_error():
    from sluice.commands.logs import line_filter

    keep = line_filter(r"^step \d+: (ok|done)$")
    assert keep("step 12: ok") and not keep("step x: ok") and not keep("a step 1: done")
    assert line_filter(None) is None and line_filter("") is None
    with pytest.raises(CliError, match="--grep: error parsing regexp") as exc:
        line_filter("(unclosed")
    assert exc.value.code == EXIT_USAGE


def test_stop_takes_argo_s_node_field_selector_and_message():
    args = build_parser().parse_args(
        ["stop", "wf", "--node-field-selector", "displayName=gate", "--message", "no"]
    )
    assert (args.node_field_selector, args.message) == ("displayName=gate", "no")
    with pytest.raises(SystemExit):  # terminate has no such option, as in argo
        build_parser().parse_args(["terminate", "wf", "--message", "no"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [(("--status", "Done"), "unknown phase 'Done'"), (("--older", "soon"), "not a duration")],
)
def test_list_refuses_bad_filters(argv, message):
    from sluice.commands.list import select

    with pytest.raises(CliError, match=message) as exc:
        select([], list_args(*argv), NOW)
    assert exc.value.code == EXIT_USAGE


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800), ("1h30m", 5400)]
)
def test_ages(text, seconds):
    from sluice.output import parse_age

    assert parse_age(text) == seconds


def test_the_list_table_and_wide_columns():
    from sluice.output import workflow_rows

    flow = wf(
        "w", "Running", created=-125, priority=3, arguments={"parameters": [{"name": "a", "value": "1"}]}
    )
    flow["status"]["startedAt"] = iso(-65)
    flow["status"]["nodes"] = {
        i: {"type": "Pod", "phase": p} for i, p in enumerate(["Pending", "Running", "Running", "Succeeded"])
    }
    flow["spec"]["suspend"] = True
    rows = workflow_rows([flow], NOW, wide=True)
    assert rows[0].split() == [
        "NAME",
        "STATUS",
        "AGE",
        "DURATION",
        "PRIORITY",
        "MESSAGE",
        "P/R/C",
        "PARAMETERS",
    ]
    assert rows[1].split() == ["w", "Running", "(Suspended)", "2m", "1m", "3", "1/2/1", "a=1"]


def test_json_and_yaml_output_drop_managed_fields():
    from sluice.output import render

    obj = {"metadata": {"name": "a", "managedFields": [{"manager": "x"}]}, "spec": {}}
    assert json.loads(render([obj], "json", as_list=False)) == {"metadata": {"name": "a"}, "spec": {}}
    listed = yaml.safe_load(render([obj, obj], "yaml", as_list=True))
    assert listed["kind"] == "List" and [i["metadata"] for i in listed["items"]] == [{"name": "a"}] * 2
    assert render([obj, obj], "name", as_list=True) == "a\na\n"


# --- resume / resubmit -----------------------------------------------------------------------------------


def gate_workflow():
    supplied = {
        "parameters": [
            {"name": "answer", "valueFrom": {"supplied": {}}},
            {"name": "who", "valueFrom": {"default": "nobody", "supplied": {}}},
        ]
    }
    return {
        "metadata": {"name": "g"},
        "spec": {},
        "status": {
            "nodes": {
                "g-1": {
                    "id": "g-1",
                    "name": "g[0].approve",
                    "displayName": "approve",
                    "type": "Suspend",
                    "phase": "Running",
                    "outputs": supplied,
                },
                "g-2": {
                    "id": "g-2",
                    "name": "g[0].later",
                    "displayName": "later",
                    "type": "Suspend",
                    "phase": "Succeeded",
                },
                "g-3": {
                    "id": "g-3",
                    "name": "g[0].other",
                    "displayName": "other",
                    "type": "Suspend",
                    "phase": "Pending",
                },
            }
        },
    }


def test_resume_picks_the_waiting_suspend_nodes():
    from sluice.commands.control import waiting_nodes

    wfl = gate_workflow()
    assert [n["id"] for n in waiting_nodes(wfl, None, None)] == ["g-1", "g-3"]
    assert [n["id"] for n in waiting_nodes(wfl, "approve", None)] == ["g-1"]
    assert [n["id"] for n in waiting_nodes(wfl, "g[0].other", None)] == ["g-3"]
    assert [n["id"] for n in waiting_nodes(wfl, None, "displayName=other")] == ["g-3"]
    assert waiting_nodes(wfl, "later", None) == []


def test_resume_supplies_outputs_and_stop_fails_the_node():
    from sluice.commands.control import node_patch

    node = gate_workflow()["status"]["nodes"]["g-1"]
    patch = node_patch(node, {"answer": "yes"}, False, "T", "")
    assert patch["phase"] == "Succeeded" and patch["finishedAt"] == "T"
    assert [(p["name"], p["value"]) for p in patch["outputs"]["parameters"]] == [
        ("answer", "yes"),
        ("who", "nobody"),
    ]
    assert node_patch(node, {}, True, "T", "") == {"phase": "Failed", "finishedAt": "T", "message": "Stopped"}


def test_resubmit_builds_a_new_workflow_from_the_old():
    from sluice.commands.retry import resubmitted
    from workflow.labels import LABEL_RESUBMITTED

    old = {
        "metadata": {
            "name": "old",
            "uid": "u",
            "resourceVersion": "9",
            "labels": {"workflows.argoproj.io/completed": "true", "team": "a"},
        },
        "spec": {
            "entrypoint": "main",
            "shutdown": "Terminate",
            "arguments": {"parameters": [{"name": "x", "value": "1"}]},
        },
        "status": {"phase": "Failed"},
    }
    new = resubmitted(old, {"x": "2"})
    assert new["metadata"] == {"generateName": "old-", "labels": {"team": "a", LABEL_RESUBMITTED: "old"}}
    assert new["spec"] == {"entrypoint": "main", "arguments": {"parameters": [{"name": "x", "value": "2"}]}}
    assert "status" not in new


def test_cron_next_run_uses_the_timezone_and_every_schedule():
    from sluice.commands.cron import next_run

    # NOW is 2026-11-29T... UTC; New York is 5 hours behind in November
    cron = {"spec": {"schedules": ["0 9 * * *", "30 * * * *"], "timezone": "America/New_York"}}
    nxt = next_run(cron, NOW)
    assert nxt is not None and 0 < nxt - NOW <= 3600
    daily = {"spec": {"schedule": "0 9 * * *", "timezone": "America/New_York"}}
    from datetime import UTC, datetime

    assert datetime.fromtimestamp(next_run(daily, NOW), UTC).hour == 14
    assert next_run({"spec": {"schedule": "nonsense"}}, NOW) is None
    # as the controller runs it (robfig): 02:30 does not exist in New York on 2026-03-08, so no run that day
    skipped = {"spec": {"schedules": ["30 2 * * *"], "timezone": "America/New_York"}}
    before = datetime(2026, 3, 7, 12, 0, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(next_run(skipped, before), UTC) == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_the_cli_documents_the_exit_codes():
    text = (Path(__file__).resolve().parents[2] / "sluice" / "cli.py").read_text()
    for code in ("0  success", "1  the work failed", "2  usage error", "3  not found", "4  the cluster"):
        assert code in text


def test_compressed_nodes_are_read_for_trees_and_resume():
    from sluice.commands.control import waiting_nodes
    from sluice.output import compressed, with_nodes
    from workflow.types.compress import encode_compressed_nodes

    nodes = gate_workflow()["status"]["nodes"]
    wf = {
        "metadata": {"name": "g"},
        "status": {"phase": "Running", "compressedNodes": encode_compressed_nodes(nodes)},
    }
    assert compressed(wf)
    readable = with_nodes(wf)
    assert readable["status"]["nodes"] == nodes and "compressedNodes" not in readable["status"]
    assert [n["id"] for n in waiting_nodes(readable, "approve", None)] == ["g-1"]
    broken = {"status": {"compressedNodes": "not base64!"}}
    assert with_nodes(broken) is broken  # left as it is: an empty tree, never a traceback


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    assert "exit codes: 0 success, 1 the workflow failed" in " ".join(capsys.readouterr().out.split())
