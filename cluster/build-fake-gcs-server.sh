#!/usr/bin/env bash
# Build fake-gcs-server (github.com/fsouza/fake-gcs-server, a GCS JSON-API emulator) from its Go module,
# once per version, into $SLUICE_CACHE_DIR/fake-gcs-server-<ver>/bin/fake-gcs-server, and print its path.
# Test only (tests/integration/gcs_server.py, benchmarks/bench_gcs.py): never installed, never shipped.
# Safe to run concurrently (flock); a killed build leaves no half-filled cache (atomic mv).
# Env: SLUICE_BUILD_JOBS (go build -p, default 1), SLUICE_BUILD_NICE (default 19): it runs beside tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
command -v go >/dev/null || { echo "build-fake-gcs-server: Go is required" >&2; exit 1; }
DIR="$SLUICE_CACHE_DIR/fake-gcs-server-$FAKE_GCS_SERVER_VERSION"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"; flock 9
if [[ ! -f "$DIR/bin/.complete" ]]; then
  echo "[build-fake-gcs-server $(date +%H:%M:%S)] building $FAKE_GCS_SERVER_VERSION (log: $DIR/build.log)" >&2
  t0=$SECONDS
  rm -rf "$DIR/bin.tmp"; mkdir -p "$DIR/bin.tmp"
  : >"$DIR/build.log"
  for attempt in 1 2 3; do  # the module download can fail transiently; compiled packages stay cached
    if GOBIN="$DIR/bin.tmp" nice -n "${SLUICE_BUILD_NICE:-19}" go install -p "${SLUICE_BUILD_JOBS:-1}" \
        -trimpath -ldflags "-s -w" "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION" \
        >>"$DIR/build.log" 2>&1; then
      break
    fi
    if ((attempt == 3)); then tail -n 40 "$DIR/build.log" >&2; echo "[build-fake-gcs-server] FAILED" >&2; exit 1; fi
    echo "[build-fake-gcs-server] attempt $attempt failed; retrying" >&2; sleep $((attempt * 10))
  done
  touch "$DIR/bin.tmp/.complete"; rm -rf "$DIR/bin"; mv "$DIR/bin.tmp" "$DIR/bin"
  echo "[build-fake-gcs-server $(date +%H:%M:%S)] built in $((SECONDS - t0)) s" >&2
fi
echo "$DIR/bin/fake-gcs-server"
