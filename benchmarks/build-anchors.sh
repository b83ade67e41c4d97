#!/usr/bin/env bash
# Build what the scale benchmark (benchmarks/bench_scale.py, `make bench-compare`) needs beside Sluice,
# from Go modules, once per version, into $SLUICE_CACHE_DIR (default /var/cache/sluice):
#   kwok-<ver>/bin/kwok                        sigs.k8s.io/kwok: simulated nodes and pods
#   argo-<ver>/bin/{workflow-controller,argoexec}   github.com/argoproj/argo-workflows/v4: the anchor
#   argo-<ver>/crds/                           the module's minimal CRDs the anchor's controller waits for
#   argo-<ver>/argoexec-image.tar              quay.io/argoproj/argoexec:<ver>, packed like cluster/ images
# Benchmark-only: never shipped, never run by .ci/run or `make test`. Prints the cache directories.
# Safe to run concurrently (a lock per product); a killed build leaves no half-filled cache (cluster/lib-build.sh).
# Env: SLUICE_BUILD_JOBS (go build -p, default 1), SLUICE_BUILD_NICE (default 19).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# lock, cache, publish; retry, module_copy, argo_fix_symlinks: shared with cluster/build-argo-cli.sh
. "$HERE/../cluster/lib-build.sh"
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
ARGO_VERSION=${ARGO_VERSION:-v4.0.5}
build_init build-anchors 1 19

build_kwok() {
  local D="$SLUICE_CACHE_DIR/kwok-$KWOK_VERSION"
  build_lock "$D/.lock"
  if build_needed "$D" "kwok $KWOK_VERSION"; then
    (
      module_copy sigs.k8s.io/kwok "$KWOK_VERSION" "$D/src"
      cd "$D/src"
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$D/bin.tmp/kwok" ./cmd/kwok
    ) >>"$D/build.log" 2>&1 || build_failed "$D" kwok
    build_publish "$D" "kwok $KWOK_VERSION" "$D/src"
  fi
  build_unlock
  echo "$D"
}

build_argo() {
  local D="$SLUICE_CACHE_DIR/argo-$ARGO_VERSION"
  build_lock "$D/.lock"
  if build_needed "$D" "argo workflow-controller + argoexec $ARGO_VERSION"; then
    rm -rf "$D/crds.tmp"; mkdir -p "$D/crds.tmp"
    (
      module_copy github.com/argoproj/argo-workflows/v4 "$ARGO_VERSION" "$D/src"
      cd "$D/src"
      argo_fix_symlinks .
      cp manifests/base/crds/minimal/*.yaml "$D/crds.tmp/"
      ldf="-s -w -X github.com/argoproj/argo-workflows/v4.version=$ARGO_VERSION"
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$D/bin.tmp/" ./cmd/workflow-controller ./cmd/argoexec
    ) >>"$D/build.log" 2>&1 || build_failed "$D" argo
    # argoexec as an image, the way cluster/build-images.sh packs static binaries (no registry, no Docker)
    rm -rf "$D/img"; mkdir -p "$D/img/root/bin" "$D/img/store"
    cp "$D/bin.tmp/argoexec" "$D/img/root/bin/argoexec"
    tar -C "$D/img/root" --numeric-owner --sort=name -cf "$D/img/layer.tar" .
    python3 "$HERE/../cluster/images/mkimage.py" "$D/img/store" --name "quay.io/argoproj/argoexec:$ARGO_VERSION" \
      --layer "$D/img/layer.tar" --entrypoint '["/bin/argoexec"]' >/dev/null
    tar -C "$D/img/store" -cf "$D/argoexec-image.tar.tmp" . && mv "$D/argoexec-image.tar.tmp" "$D/argoexec-image.tar"
    rm -rf "$D/img"
    rm -rf "$D/crds"; mv "$D/crds.tmp" "$D/crds"
    build_publish "$D" "argo $ARGO_VERSION" "$D/src"
  fi
  build_unlock
  echo "$D"
}

case "${1:-all}" in
  all) build_kwok; build_argo ;;
  kwok) build_kwok ;;
  argo) build_argo ;;
  *) echo "usage: $0 [all|kwok|argo]" >&2; exit 2 ;;
esac
