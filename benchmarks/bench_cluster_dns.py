"""The project cluster's DNS (cluster/up.sh: CoreDNS on 10.250.0.1:53): answer latency, p50 and p99, for a
Service name (from the kubernetes plugin's cache), a missing cluster name (NXDOMAIN) and a name outside
cluster.local (NXDOMAIN from the template: never forwarded). Queries go to the node address only, one
at a time over UDP, from this host (a pod's query adds the bridge hop).

    .venv/bin/python benchmarks/bench_cluster_dns.py [--queries 2000]

Needs the project's cluster up (make cluster-up). Figures: benchmarks/RESULTS.md, cluster/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.e2e.dnswire import query  # noqa: E402

DNS_IP = "10.250.0.1"
NAMES = {
    "Service (kubernetes.default.svc.cluster.local)": ("kubernetes.default.svc.cluster.local", "NOERROR"),
    "missing cluster name": ("no-such-service.default.svc.cluster.local", "NXDOMAIN"),
    "outside name (sluice-outside.example)": ("sluice-outside.example", "NXDOMAIN"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000, help="queries per name (default 2000)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; {args.queries} queries per name, one at a time")
    print("| query | answer | p50 ms | p99 ms |")
    print("|---|---|---:|---:|")
    for label, (name, expected) in NAMES.items():
        for _ in range(50):  # warm-up
            query(DNS_IP, name)
        times = []
        for _ in range(args.queries):
            t0 = time.perf_counter()
            answer = query(DNS_IP, name)
            times.append((time.perf_counter() - t0) * 1000)
            if answer.rcode != expected:
                raise SystemExit(f"{name}: {answer} (expected {expected})")
        p99 = statistics.quantiles(times, n=100)[98]
        print(f"| {label} | {expected} | {statistics.median(times):.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
