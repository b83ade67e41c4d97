#!/usr/bin/env bash
# Build the MinIO server from its Go module, once per version, into $SLUICE_CACHE_DIR/minio-<ver>/bin/minio.
# Prints the binary's path on stdout. MinIO runs as a separate test service (never linked into Sluice).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
DIR="$SLUICE_CACHE_DIR/minio-$MINIO_VERSION"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"; flock 9
if [[ ! -f "$DIR/bin/.complete" ]]; then
  echo "[build-minio $(date +%H:%M:%S)] building minio $MINIO_VERSION (log: $DIR/build.log)" >&2
  t0=$SECONDS
  rm -rf "$DIR/bin.tmp"; mkdir -p "$DIR/bin.tmp"
  : >"$DIR/build.log"
  for attempt in 1 2 3; do  # the module download can fail transiently; compiled packages stay cached
    if GOBIN="$DIR/bin.tmp" /usr/bin/time -v -o "$DIR/build-time.txt" nice -n "${SLUICE_BUILD_NICE:-10}" \
        go install -p "${SLUICE_BUILD_JOBS:-2}" -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" \
        >>"$DIR/build.log" 2>&1; then
      break
    fi
    if ((attempt == 3)); then tail -n 40 "$DIR/build.log" >&2; echo "[build-minio] FAILED" >&2; exit 1; fi
    echo "[build-minio] attempt $attempt failed; retrying" >&2; sleep $((attempt * 10))
  done
  touch "$DIR/bin.tmp/.complete"; rm -rf "$DIR/bin"; mv "$DIR/bin.tmp" "$DIR/bin"
  echo "[build-minio $(date +%H:%M:%S)] built in $((SECONDS - t0)) s" >&2
fi
echo "$DIR/bin/minio"
