#!/usr/bin/env bash
# Build the MinIO server from its Go module, once per version, into $SLUICE_CACHE_DIR/minio-<ver>/bin/minio.
# Prints the binary's path on stdout. MinIO runs as a separate test service (never linked into Sluice).
# Lock, cache and publish: cluster/lib-build.sh. Env: SLUICE_BUILD_JOBS (default 2), SLUICE_BUILD_NICE (10).
set -euo pipefail
. "$(dirname "$0")/lib-build.sh"
build_init build-minio 2 10
DIR="$SLUICE_CACHE_DIR/minio-$MINIO_VERSION"
build_lock "$DIR/.lock"
if build_needed "$DIR" "minio $MINIO_VERSION"; then
  # the module download can fail transiently (retry); compiled packages stay cached
  GOBIN="$DIR/bin.tmp" retry /usr/bin/time -v -o "$DIR/build-time.txt" nice -n "$NICE" \
    go install -p "$JOBS" -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" \
    >>"$DIR/build.log" 2>&1 || build_failed "$DIR" minio
  build_publish "$DIR" "minio $MINIO_VERSION"
fi
echo "$DIR/bin/minio"
