#!/usr/bin/env bash
# Run the e2e tier (make test-e2e; called by scripts/test.sh after the fast tiers), on
# SLUICE_E2E_WORKERS pytest-xdist workers (3 unless set; 1 runs it in one process).
#   SLUICE_E2E_KUBECONFIG set: run on that cluster, nothing else is started or stopped.
#   otherwise: bring the project's cluster up, run the tier, bring it down again (trap, also on failure).
#     When this directory's cluster is already up (make cluster-up), it is reused (its Sluice image
#     rebuilt from the working tree) and left up.
# pytest's exit code 5 (no tests collected) fails like any other non-zero code.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
command -v "$PY" >/dev/null || PY=python3

# SLUICE_E2E_WORKERS pytest-xdist workers (default 3; 1: one process, serially): each file on one worker,
# the files that act on the whole cluster one after another on one of them (tests/e2e/concurrency.py).
workers=${SLUICE_E2E_WORKERS:-3}
if [[ ! $workers =~ ^[0-9]+$ ]]; then echo "SLUICE_E2E_WORKERS=$workers: not a number" >&2; exit 2; fi
parallel=()
if ((workers > 1)); then parallel=(-n "$workers" --dist loadgroup); fi

run_tier() {
  local rc=0
  "$PY" -m pytest -m e2e tests/e2e "${parallel[@]}" --durations=30 "$@" || rc=$?
  if ((rc == 5)); then echo "e2e tier: pytest collected no tests (exit 5): failing" >&2; fi
  return "$rc"
}

if [[ -n "${SLUICE_E2E_KUBECONFIG:-}" ]]; then
  echo "e2e tier on SLUICE_E2E_KUBECONFIG=$SLUICE_E2E_KUBECONFIG" >&2
  run_tier "$@"
  exit
fi

# Packages and the (cached) builds first, outside the lock: the first run on a machine builds for long.
t0=$SECONDS
cluster/install-deps.sh
cluster/build-k8s.sh all
cluster/build-minio.sh >/dev/null
cluster/build-coredns.sh >/dev/null   # the cluster DNS
cluster/build-argo-cli.sh >/dev/null   # the real-client tests' argo CLI (tests/e2e/argo_clients.py)
echo "e2e tier: packages and builds ready after $((SECONDS - t0)) s" >&2

# One e2e run on the project's cluster at a time on this machine (its addresses and ports are fixed).
exec 7>/run/sluice-e2e.lock
if ! flock -n 7; then echo "e2e tier: waiting for another e2e run on this machine" >&2; flock 7; fi

cluster_dir=${SLUICE_CLUSTER_DIR:-$PWD/.cluster}
if [[ -f "$cluster_dir/kubeconfig" && -f /run/sluice-cluster/owner &&
      "$(cat /run/sluice-cluster/owner)" == "$(cd "$cluster_dir" && pwd)" ]] &&
   "$cluster_dir/bin/kubectl" --kubeconfig "$cluster_dir/kubeconfig" --request-timeout=10s get --raw /readyz >/dev/null 2>&1; then
  echo "e2e tier on the running project cluster ($cluster_dir); refreshing its images" >&2
  cluster/up.sh
  run_tier "$@"
  exit
fi

trap 'rc=$?; echo "e2e tier: bringing the cluster down" >&2; t1=$SECONDS; cluster/down.sh || echo "cluster-down reported leftovers (see above)" >&2; echo "e2e tier: cluster down in $((SECONDS - t1)) s" >&2; exit $rc' EXIT
t1=$SECONDS
cluster/up.sh
echo "e2e tier: cluster up in $((SECONDS - t1)) s" >&2
t1=$SECONDS
run_tier "$@"
echo "e2e tier: tests took $((SECONDS - t1)) s" >&2
