#!/usr/bin/env bash
# Build fake-gcs-server (github.com/fsouza/fake-gcs-server, a GCS JSON-API emulator) from its Go module,
# once per version, into $SLUICE_CACHE_DIR/fake-gcs-server-<ver>/bin/fake-gcs-server, and print its path.
# Test only (tests/integration/gcs_server.py, benchmarks/bench_gcs.py): never installed, never shipped.
# Safe to run concurrently; a killed build leaves no half-filled cache (cluster/lib-build.sh).
# Env: SLUICE_BUILD_JOBS (go build -p, default 1), SLUICE_BUILD_NICE (default 19): it runs beside tests.
set -euo pipefail
. "$(dirname "$0")/lib-build.sh"
build_init build-fake-gcs-server 1 19
DIR="$SLUICE_CACHE_DIR/fake-gcs-server-$FAKE_GCS_SERVER_VERSION"
build_lock "$DIR/.lock"
if build_needed "$DIR" "fake-gcs-server $FAKE_GCS_SERVER_VERSION"; then
  # the module download can fail transiently (retry); compiled packages stay cached
  GOBIN="$DIR/bin.tmp" retry nice -n "$NICE" go install -p "$JOBS" -trimpath -ldflags "-s -w" \
    "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION" >>"$DIR/build.log" 2>&1 ||
    build_failed "$DIR" fake-gcs-server
  build_publish "$DIR" "fake-gcs-server $FAKE_GCS_SERVER_VERSION"
fi
echo "$DIR/bin/fake-gcs-server"
