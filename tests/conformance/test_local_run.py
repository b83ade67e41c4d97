"""Conformance of `sluice run` with Argo's examples: one test per example, each against the outcome
committed in `local_run_expected.tsv` beside this file.

The outcomes file has one row per Workflow example of Argo's expected.tsv:

* `Succeeded` / `Failed` / `Error`: the phase the run must end in (the phase Argo's list gives);
* `likely:<phase>`: the example draws random numbers and ends in that phase almost always (e.g. a
  retried step that succeeds 1 time in 3): it must end there in one of up to `LIKELY_RUNS` runs, so a
  false failure needs several improbable draws in a row (~1e-6 for the ~1% examples);
* `random`: the outcome is random in Argo's own list (probabilistic): the run must end, in any phase;
* `too-long`: labelled `no-test: duration` by Argo and longer than the time budget: not run here;
* `cannot-run`: needs what only a cluster or a remote service has; the reasons are decided from the YAML
  (`local_examples.blockers`) and must equal the committed ones, so the list does not depend on the machine.

The `seconds` column is how long one run took on this machine when the file was written: only a hint,
to start the longest examples first. The examples run concurrently (`WORKERS` `sluice run` processes at
once): the first test that needs an outcome runs every example selected in this session, the others
read their result. Set SLUICE_CONFORMANCE_REPORT=FILE to get the outcomes as JSON (for the README).
"""

from __future__ import annotations

import csv
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from local_examples import Example, Outcome, expected_seconds, load_examples, run_example

WORKERS = int(os.environ.get("SLUICE_CONFORMANCE_WORKERS", "6"))
EXPECTED_FILE = Path(__file__).with_name("local_run_expected.tsv")
PHASES = ("Succeeded", "Failed", "Error")
DURATION_LABEL = "workflows.argoproj.io/no-test"


def _read_expected() -> dict[str, dict[str, str]]:
    with open(EXPECTED_FILE) as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


EXPECTED = _read_expected()
RUN = sorted(f for f, row in EXPECTED.items() if row["outcome"] not in ("too-long", "cannot-run"))
LIKELY_RUNS = 3

# One xdist worker runs every example: scripts/test.sh uses --dist loadfile (a file's tests on one
# worker), since the fixture below runs the session's selected examples at once, and spreading the tests
# would run them on each worker. (--dist loadgroup does not group under pytest 9 with xdist 3.8.)
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def examples(argo_examples) -> dict[str, Example]:
    return {e.file: e for e in load_examples(argo_examples)}


@pytest.fixture(scope="module")
def outcomes(request, examples, argo_examples, tmp_path_factory) -> dict[str, Outcome]:
    """Every example this session selected, run concurrently (the rest of the session waits on it)."""
    selected = {
        item.callspec.params["example"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_local_run" and hasattr(item, "callspec")
    }
    # Longest first (the seconds a run took when the file was written; the sleeps in the YAML otherwise),
    # so the two ~4-minute mutex examples do not start last.
    todo = sorted(
        (examples[f] for f in selected),
        key=lambda e: -(float(EXPECTED[e.file]["seconds"] or 0) or expected_seconds(argo_examples, e)),
    )
    home = tmp_path_factory.mktemp("local-run")
    with ThreadPoolExecutor(WORKERS) as pool:
        results = dict(
            zip(
                [e.file for e in todo],
                pool.map(lambda e: run_example(argo_examples, e, home), todo),
                strict=True,
            )
        )
    report = os.environ.get("SLUICE_CONFORMANCE_REPORT")
    if report:
        rows = {
            f: {
                "expected": EXPECTED[f]["outcome"],
                "phase": o.phase,
                "message": o.message,
                "seconds": round(o.seconds, 1),
            }
            for f, o in sorted(results.items())
        }
        Path(report).write_text(json.dumps(rows, indent=1))
    return results


def test_outcomes_file_covers_every_example_and_agrees_with_argo(examples, argo_examples):
    assert sorted(EXPECTED) == sorted(examples), "one row per Workflow example of Argo's expected.tsv"
    for file, row in EXPECTED.items():
        example, outcome = examples[file], row["outcome"]
        labels = ((example.doc or {}).get("metadata") or {}).get("labels") or {}
        if outcome == "cannot-run":
            assert row["why"] == "; ".join(example.blockers), f"{file}: the YAML says {example.blockers}"
        else:
            assert example.runnable, f"{file} cannot run locally: {example.blockers}"
        if outcome in PHASES:
            assert outcome == example.expected, f"{file}: Argo expects {example.expected}"
            assert not example.probabilistic, f"{file} is random in Argo: its outcome is `random`"
        elif outcome.startswith("likely:"):
            assert outcome.removeprefix("likely:") == example.expected, (
                f"{file}: Argo expects {example.expected}"
            )
            assert "random" in (argo_examples / file).read_text(), f"{file} draws no random number"
        elif outcome == "random":
            assert example.probabilistic, f"{file} is not random in Argo's list"
        elif outcome == "too-long":
            assert labels.get(DURATION_LABEL) == "duration", (
                f"{file}: only Argo's `duration` examples are not run"
            )
        else:
            assert outcome == "cannot-run", f"{file}: unknown outcome {outcome!r}"


def test_blockers_are_decided_from_the_yaml(examples):
    assert examples["k8s-jobs.yaml"].blockers
    assert "resource templates need a Kubernetes API" in examples["k8s-patch-pod.yaml"].blockers
    assert "git artifacts live in a remote store" in examples["input-artifact-git.yaml"].blockers
    assert examples["steps.yaml"].runnable and examples["dag-diamond.yaml"].runnable
    assert examples["artifact-passing.yaml"].runnable  # the local artifact directory is the repository


@pytest.mark.timeout(3600)  # the first test waits for the whole concurrent run
@pytest.mark.parametrize("example", RUN)
def test_local_run(example, outcomes, examples, argo_examples, tmp_path):
    got = outcomes[example]
    expected = EXPECTED[example]["outcome"]
    assert not got.timed_out, f"{example} did not finish in the time budget"
    if expected == "random":
        assert got.phase in PHASES, f"{example} ended without a final phase: {got.message}"
        return
    if expected.startswith("likely:"):
        expected = expected.removeprefix("likely:")
        runs = [got]
        while runs[-1].phase != expected and len(runs) < LIKELY_RUNS:
            runs.append(run_example(argo_examples, examples[example], tmp_path))
        got = runs[-1]
    assert got.phase == expected, f"{example}: expected {expected}, got {got.phase!r}: {got.message}"
