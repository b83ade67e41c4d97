#!/usr/bin/env bash
# The project's test command (README): every tier this machine can run.
#   fast tiers: ruff (lint and format), mypy, then unit + integration + conformance in one pytest run
#   e2e tier:   on SLUICE_E2E_KUBECONFIG when set, else on the project's own cluster (make cluster-up)
# pytest's exit code 5 (no tests collected) is a failure here, never hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

ruff check .
ruff format --check .  # one format for the whole tree (make fmt applies it)
mypy  # the type checker, configured in pyproject.toml ([tool.mypy])
scripts/install-browser.sh  # Debian's Chromium for the browser tests of `sluice ui` (root only)
# Several processes (pytest-xdist, each test file on one worker): the local conformance run (one file)
# mostly waits on its examples' sleeps, the other tiers run beside it. SLUICE_TEST_WORKERS=0: one process.
python -m pytest -m "not e2e" -n "${SLUICE_TEST_WORKERS:-3}" --dist loadfile "$@"

# e2e tier (cluster/e2e.sh: on SLUICE_E2E_KUBECONFIG, or cluster up -> pytest -m e2e tests/e2e -> down).
if [[ "${SLUICE_SKIP_E2E:-}" == 1 ]]; then
  echo "SLUICE_SKIP_E2E=1: the e2e tier was NOT run" >&2
else
  cluster/e2e.sh
fi
