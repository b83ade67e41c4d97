#!/usr/bin/env bash
# Build the cluster's DNS server (CoreDNS from its Go module, with only the plugins cluster/coredns/main.go
# imports) once per version into $SLUICE_CACHE_DIR/coredns-<ver>/bin/coredns. Prints the binary's path.
# Safe to run concurrently (flock); the finished binary is published by a rename (bin.tmp -> bin).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
. "$HERE/gomod.sh"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
command -v go >/dev/null || { echo "build-coredns: Go is required" >&2; exit 1; }
# The cache key holds the main's hash too: a change of the plugin set rebuilds.
main_sum=$(sha256sum "$HERE/coredns/main.go" | cut -c1-12)
DIR="$SLUICE_CACHE_DIR/coredns-$COREDNS_VERSION-$main_sum"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"; flock 9
if [[ ! -f "$DIR/bin/.complete" ]]; then
  echo "[build-coredns $(date +%H:%M:%S)] building coredns $COREDNS_VERSION (log: $DIR/build.log)" >&2
  t0=$SECONDS
  rm -rf "$DIR/work" "$DIR/bin.tmp"; mkdir -p "$DIR/work" "$DIR/bin.tmp"
  if ! (
    cd "$DIR/work"
    cp "$HERE/coredns/main.go" main.go
    go mod init local.invalid/corednsbuild
    retry go get "github.com/coredns/coredns@$COREDNS_VERSION"
    retry go mod tidy
    /usr/bin/time -v -o "$DIR/build-time.txt" nice -n "${SLUICE_BUILD_NICE:-19}" \
      go build -p "${SLUICE_BUILD_JOBS:-1}" -trimpath -ldflags "-s -w" -o "$DIR/bin.tmp/coredns" .
  ) >"$DIR/build.log" 2>&1; then
    tail -n 40 "$DIR/build.log" >&2; echo "[build-coredns] FAILED" >&2; exit 1
  fi
  "$DIR/bin.tmp/coredns" -plugins >"$DIR/plugins.txt"
  touch "$DIR/bin.tmp/.complete"; rm -rf "$DIR/bin"; mv "$DIR/bin.tmp" "$DIR/bin"
  echo "[build-coredns $(date +%H:%M:%S)] built in $((SECONDS - t0)) s" >&2
fi
echo "$DIR/bin/coredns"
