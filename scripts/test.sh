#!/usr/bin/env bash
# The project's test command (README): every tier this machine can run.
#   fast tiers: ruff (lint and format), mypy, then unit + integration + conformance in one pytest run
#   e2e tier:   on SLUICE_E2E_KUBECONFIG when set, else on the project's own cluster (make cluster-up)
# pytest's exit code 5 (no tests collected) is a failure here, never hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

# On a new machine the e2e tier's builds (Kubernetes, etcd, MinIO, CoreDNS, Argo's CLI: tens of CPU-minutes) start
# now, in the background, beside the fast tiers, whose local conformance run mostly waits on its examples'
# sleeps. cluster/e2e.sh runs the same builds (cached and locked), so it finds them done or waits for them.
# On a warm machine they are cache hits and end in under a second.
early_builds=
if [[ "${SLUICE_SKIP_E2E:-}" != 1 && -z "${SLUICE_E2E_KUBECONFIG:-}" && $(id -u) == 0 ]]; then
  mkdir -p .cluster/logs
  setsid bash -c 'cluster/install-deps.sh && cluster/build-k8s.sh all && cluster/build-minio.sh &&
    cluster/build-coredns.sh && cluster/build-argo-cli.sh' >.cluster/logs/early-builds.log 2>&1 </dev/null &
  early_builds=$!
fi
# The GCS emulator of the integration tier's GCS tests (a few CPU-minutes on a new machine): a job of its
# own, so it is ready when pytest reaches those tests instead of after the Kubernetes build; the tests run
# the same cached, locked build themselves and wait for it if it is still going.
gcs_build=
if [[ $(id -u) == 0 ]]; then
  mkdir -p .cluster/logs
  setsid cluster/build-fake-gcs-server.sh >.cluster/logs/fake-gcs-build.log 2>&1 </dev/null &
  gcs_build=$!
fi
# Never left running after this script (their own process groups: go and its compilers too).
trap 'for job in $early_builds $gcs_build; do kill -- "-$job" 2>/dev/null || true; done' EXIT

ruff check .
ruff format --check .  # one format for the whole tree (make fmt applies it)
mypy  # the type checker, configured in pyproject.toml ([tool.mypy])
scripts/install-browser.sh  # Debian's Chromium for the browser tests of `sluice ui` (root only)
# Several processes (pytest-xdist, each test file on one worker): the local conformance run (one file)
# mostly waits on its examples' sleeps, the other tiers run beside it. SLUICE_TEST_WORKERS=0: one process.
python -m pytest -m "not e2e" -n "${SLUICE_TEST_WORKERS:-3}" --dist loadfile "$@"
if [[ -n $gcs_build ]]; then wait "$gcs_build" || true; gcs_build=; fi  # done: nothing left to kill

# e2e tier (cluster/e2e.sh: on SLUICE_E2E_KUBECONFIG, or cluster up -> pytest -m e2e tests/e2e -> down).
if [[ "${SLUICE_SKIP_E2E:-}" == 1 ]]; then
  echo "SLUICE_SKIP_E2E=1: the e2e tier was NOT run" >&2
else
  if [[ -n $early_builds ]]; then
    wait "$early_builds" || echo "the early builds failed (.cluster/logs/early-builds.log): cluster/e2e.sh runs them again" >&2
    early_builds=
  fi
  cluster/e2e.sh
fi
