"""Conformance of `sluice run` with Argo's examples: every example that can run on this machine is run
and its final phase compared with expected.tsv; at least 90% must match.

Examples whose outcome is random in Argo itself ("probabilistic" in expected.tsv) are run but kept out
of the ratio; examples labelled `no-test: duration` that outlast the budget are reported as too long.
The report (pass count, failures, what cannot run and why) is written to
`tests/conformance/local-run-report.json` beside this file's run directory for the README.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from local_examples import expected_seconds, load_examples, run_example

REQUIRED_RATIO = 0.90
WORKERS = int(os.environ.get("SLUICE_CONFORMANCE_WORKERS", "6"))


@pytest.fixture(scope="module")
def examples(argo_examples):
    return load_examples(argo_examples)


def test_blockers_are_decided_from_the_yaml(examples):
    by_file = {e.file: e for e in examples}
    assert by_file["k8s-jobs.yaml"].blockers
    assert "resource templates need a Kubernetes API" in by_file["k8s-patch-pod.yaml"].blockers
    assert "git artifacts live in a remote store" in by_file["input-artifact-git.yaml"].blockers
    assert by_file["steps.yaml"].runnable and by_file["dag-diamond.yaml"].runnable
    assert by_file["artifact-passing.yaml"].runnable  # the local artifact directory is the repository


@pytest.mark.timeout(3600)
def test_local_run_matches_expected_phases(examples, argo_examples, tmp_path):
    runnable = sorted((e for e in examples if e.runnable), key=lambda e: -expected_seconds(argo_examples, e))
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda e: (e, run_example(argo_examples, e, tmp_path)), runnable))
    passed, failed, random_, too_long = [], [], [], []
    for example, outcome in outcomes:
        duration_label = ((example.doc.get("metadata") or {}).get("labels") or {}).get(
            "workflows.argoproj.io/no-test") == "duration"
        entry = {"file": example.file, "expected": example.expected, "phase": outcome.phase,
                 "message": outcome.message, "seconds": round(outcome.seconds, 1)}
        if outcome.timed_out and duration_label:
            too_long.append(entry)
        elif example.probabilistic:
            random_.append(entry)
        elif outcome.phase == example.expected:
            passed.append(entry)
        else:
            failed.append(entry)
    counted = len(passed) + len(failed)
    report = {
        "passed": len(passed), "counted": counted, "ratio": round(len(passed) / max(counted, 1), 3),
        "failed": failed, "probabilistic": random_, "too_long": too_long,
        "cannot_run_locally": [{"file": e.file, "why": e.blockers} for e in examples if not e.runnable],
    }
    out = os.environ.get("SLUICE_CONFORMANCE_REPORT")
    if out:
        with open(out, "w") as fh:
            json.dump(report, fh, indent=1)
    print(f"\nlocal run conformance: {len(passed)}/{counted} examples reach their expected phase "
          f"({len(random_)} probabilistic, {len(too_long)} too long, "
          f"{len(report['cannot_run_locally'])} cannot run locally)")
    for entry in failed:
        print(f"  FAILED {entry['file']}: expected {entry['expected']}, got {entry['phase']} {entry['message'][:120]}")
    assert counted >= 100, "most examples should be locally runnable"
    assert len(passed) / counted >= REQUIRED_RATIO, json.dumps(failed, indent=1)
