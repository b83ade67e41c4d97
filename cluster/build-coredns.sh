#!/usr/bin/env bash
# Build the cluster's DNS server (CoreDNS from its Go module, with only the plugins cluster/coredns/main.go
# imports) once per version into $SLUICE_CACHE_DIR/coredns-<ver>/bin/coredns. Prints the binary's path.
# Safe to run concurrently; the finished binary is published by a rename (cluster/lib-build.sh).
# Env: SLUICE_BUILD_JOBS (go build -p, default 1), SLUICE_BUILD_NICE (default 19).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-build.sh"
build_init build-coredns 1 19
# The cache key holds the main's hash too: a change of the plugin set rebuilds.
main_sum=$(sha256sum "$HERE/coredns/main.go" | cut -c1-12)
DIR="$SLUICE_CACHE_DIR/coredns-$COREDNS_VERSION-$main_sum"
build_lock "$DIR/.lock"
if build_needed "$DIR" "coredns $COREDNS_VERSION"; then
  rm -rf "$DIR/work"; mkdir -p "$DIR/work"
  (
    cd "$DIR/work"
    cp "$HERE/coredns/main.go" main.go
    go mod init local.invalid/corednsbuild
    retry go get "github.com/coredns/coredns@$COREDNS_VERSION"
    retry go mod tidy
    /usr/bin/time -v -o "$DIR/build-time.txt" nice -n "$NICE" \
      go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$DIR/bin.tmp/coredns" .
  ) >>"$DIR/build.log" 2>&1 || build_failed "$DIR" coredns
  "$DIR/bin.tmp/coredns" -plugins >"$DIR/plugins.txt"
  build_publish "$DIR" "coredns $COREDNS_VERSION"
fi
echo "$DIR/bin/coredns"
