#!/usr/bin/env bash
# Build what the scale benchmark (benchmarks/bench_scale.py, `make bench-compare`) needs beside Sluice,
# from Go modules, once per version, into $SLUICE_CACHE_DIR (default /var/cache/sluice):
#   kwok-<ver>/bin/kwok                        sigs.k8s.io/kwok: simulated nodes and pods
#   argo-<ver>/bin/{workflow-controller,argoexec}   github.com/argoproj/argo-workflows/v4: the anchor
#   argo-<ver>/crds/                           the module's minimal CRDs the anchor's controller waits for
#   argo-<ver>/argoexec-image.tar              quay.io/argoproj/argoexec:<ver>, packed like cluster/ images
# Benchmark-only: never shipped, never run by .ci/run or `make test`. Prints the cache directories.
# Safe to run concurrently (flock per product); a killed build leaves no half-filled cache (atomic mv).
# Env: SLUICE_BUILD_JOBS (go build -p, default 1), SLUICE_BUILD_NICE (default 19).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../cluster/versions.sh"
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
ARGO_VERSION=${ARGO_VERSION:-v4.0.5}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
JOBS=${SLUICE_BUILD_JOBS:-1}
NICE=${SLUICE_BUILD_NICE:-19}
log() { echo "[build-anchors $(date +%H:%M:%S)] $*" >&2; }
# retry, module_copy, argo_fix_symlinks: shared with cluster/build-argo-cli.sh
. "$HERE/../cluster/gomod.sh"

build_kwok() {
  local D="$SLUICE_CACHE_DIR/kwok-$KWOK_VERSION"
  mkdir -p "$D"; exec 8>"$D/.lock"; flock 8
  if [[ ! -f "$D/bin/.complete" ]]; then
    local t0=$SECONDS
    log "building kwok $KWOK_VERSION (log: $D/build.log)"
    rm -rf "$D/bin.tmp"; mkdir -p "$D/bin.tmp"
    (
      module_copy sigs.k8s.io/kwok "$KWOK_VERSION" "$D/src"
      cd "$D/src"
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$D/bin.tmp/kwok" ./cmd/kwok
    ) >"$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; log "kwok build FAILED"; exit 1; }
    touch "$D/bin.tmp/.complete"; rm -rf "$D/bin" "$D/src"; mv "$D/bin.tmp" "$D/bin"
    log "kwok built in $((SECONDS - t0)) s"
  fi
  exec 8>&-
  echo "$D"
}

build_argo() {
  local D="$SLUICE_CACHE_DIR/argo-$ARGO_VERSION"
  mkdir -p "$D"; exec 8>"$D/.lock"; flock 8
  if [[ ! -f "$D/bin/.complete" ]]; then
    local t0=$SECONDS
    log "building argo workflow-controller + argoexec $ARGO_VERSION (log: $D/build.log)"
    rm -rf "$D/bin.tmp" "$D/crds.tmp"; mkdir -p "$D/bin.tmp" "$D/crds.tmp"
    (
      module_copy github.com/argoproj/argo-workflows/v4 "$ARGO_VERSION" "$D/src"
      cd "$D/src"
      argo_fix_symlinks .
      cp manifests/base/crds/minimal/*.yaml "$D/crds.tmp/"
      ldf="-s -w -X github.com/argoproj/argo-workflows/v4.version=$ARGO_VERSION"
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$D/bin.tmp/" ./cmd/workflow-controller ./cmd/argoexec
    ) >"$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; log "argo build FAILED"; exit 1; }
    # argoexec as an image, the way cluster/build-images.sh packs static binaries (no registry, no Docker)
    rm -rf "$D/img"; mkdir -p "$D/img/root/bin" "$D/img/store"
    cp "$D/bin.tmp/argoexec" "$D/img/root/bin/argoexec"
    tar -C "$D/img/root" --numeric-owner --sort=name -cf "$D/img/layer.tar" .
    python3 "$HERE/../cluster/images/mkimage.py" "$D/img/store" --name "quay.io/argoproj/argoexec:$ARGO_VERSION" \
      --layer "$D/img/layer.tar" --entrypoint '["/bin/argoexec"]' >/dev/null
    tar -C "$D/img/store" -cf "$D/argoexec-image.tar.tmp" . && mv "$D/argoexec-image.tar.tmp" "$D/argoexec-image.tar"
    rm -rf "$D/img"
    touch "$D/bin.tmp/.complete"; rm -rf "$D/bin" "$D/crds" "$D/src"
    mv "$D/crds.tmp" "$D/crds"; mv "$D/bin.tmp" "$D/bin"
    log "argo built in $((SECONDS - t0)) s"
  fi
  exec 8>&-
  echo "$D"
}

case "${1:-all}" in
  all) build_kwok; build_argo ;;
  kwok) build_kwok ;;
  argo) build_argo ;;
  *) echo "usage: $0 [all|kwok|argo]" >&2; exit 2 ;;
esac
