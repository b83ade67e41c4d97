"""Worst-case admission latency and memory under hostile input and the shipped policies (issue 13).

    .venv/bin/python benchmarks/bench_webhook_attacks.py

Starts `sluice webhook` as a real process with policies/ and sends, one after the other, each attack
of issue 13 that reaches the policies (items 1-3) plus a cubic policy; for each: the answer's latency
at the client, the verdict, and the peak RSS (VmHWM) of the server and of each policy worker.
Also /healthz latency while the slowest request is in flight.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

import yaml  # noqa: E402
from test_webhook_attacks import EXPENSIVE, children, many_templates, small, with_items  # noqa: E402
from test_webhook_support import WebhookProcess, review  # noqa: E402


def peaks(pid: int) -> dict[str, int]:
    out = {}
    for p in [pid, *children(pid)]:
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        hwm = next((int(line.split()[1]) for line in lines if line.startswith("VmHWM:")), 0)
        out["server" if p == pid else f"child {p}"] = hwm // 1024
    return out


def main() -> None:
    attacks = [
        ("small workflow", small()),
        ("item 1: 199 templates x 1,000 inherited env (56 KB)", many_templates(199, 1000)),
        ("item 1: 100 templates x 1,000 inherited env", many_templates(100, 1000)),
        ("item 2: cubic policy over 199 templates", many_templates(199, 0, labels={"attack": "yes"})),
        ("item 3: withItems of 300,000 objects (2.9 MiB)", with_items(300_000)),
    ]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        policies = tmp / "policies"
        policies.mkdir()
        for f in (REPO / "policies").glob("*.yaml"):
            (policies / f.name).write_text(f.read_text())
        (policies / "cubic.yaml").write_text(yaml.safe_dump(EXPENSIVE))
        with WebhookProcess(tmp, policies=policies) as proc:
            print(f"idle: {peaks(proc.proc.pid)} MiB")
            for label, obj in attacks:
                body = json.dumps(review(obj)).encode()
                probes: list[float] = []
                done = threading.Event()

                def probe(done=done, probes=probes):
                    client = proc.client()
                    while not done.is_set():
                        t = time.perf_counter()
                        client.request("GET", "/healthz")
                        probes.append(time.perf_counter() - t)

                thread = threading.Thread(target=probe)
                thread.start()
                started = time.perf_counter()
                _, answer = proc.client().post("/validate", body)
                elapsed = time.perf_counter() - started
                done.set()
                thread.join()
                r = answer["response"]
                why = (r.get("status") or {}).get("message", "")[:160]
                worst = max(probes) * 1000 if probes else float("nan")
                med = statistics.median(probes) * 1000 if probes else float("nan")
                print(
                    f"{label}: {len(body):,} B, {elapsed:.2f} s, allowed={r['allowed']}; "
                    f"/healthz meanwhile: {len(probes)} answers, median {med:.1f} ms, max {worst:.1f} ms; "
                    f"peak RSS {peaks(proc.proc.pid)} MiB\n    {why}"
                )


if __name__ == "__main__":
    main()
