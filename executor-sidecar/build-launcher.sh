#!/usr/bin/env bash
# Build the static launcher (executor-sidecar/launcher, Go, CGO off: runs in any image) into OUTDIR as
# OUTDIR/sluice-launcher. The build is cached by the hash of its sources, so calling this again (CI,
# cluster/build-images.sh, the tests' fixture) costs a copy.
set -euo pipefail
out=${1:?usage: build-launcher.sh OUTDIR}
src="$(cd "$(dirname "$0")/launcher" && pwd)"
cache=${SLUICE_CACHE_DIR:-/var/cache/sluice}/launcher
mkdir -p "$cache" 2>/dev/null || cache=${XDG_CACHE_HOME:-$HOME/.cache}/sluice/launcher
mkdir -p "$cache" "$out"
# A launcher built elsewhere (images/Dockerfile builds it in a Go stage) is taken as it is.
if [[ -n "${SLUICE_LAUNCHER_BIN:-}" ]]; then
  install -m 0755 "$SLUICE_LAUNCHER_BIN" "$out/sluice-launcher"
  exit 0
fi
key=$(cd "$src" && cat go.mod $(ls *.go | grep -v _test.go) | sha256sum | cut -c1-16)
bin="$cache/sluice-launcher-$key"
if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || { echo "build-launcher.sh: Go is needed to build the launcher" >&2; exit 1; }
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w" -o "$bin.tmp.$$" .)
  mv -f "$bin.tmp.$$" "$bin"
fi
install -m 0755 "$bin" "$out/sluice-launcher"
