#!/usr/bin/env bash
# Build what the e2e tier's real-client tests need, from Go modules, once per version, into
# $SLUICE_CACHE_DIR (default /var/cache/sluice):
#   argo-cli-<ARGO_VERSION>/bin/argo   Argo's CLI (github.com/argoproj/argo-workflows/v4 ./cmd/argo), which
#                                      tests/e2e/test_argo_cli.py runs in kube mode
#   argocd-health-<ARGOCD_VERSION>/bin/argocd-health
#                                      cluster/argocd-health/main.go linked with the health code of Argo CD
#                                      <ARGOCD_VERSION> (tests/e2e/test_argocd_health.py)
# Argo CD has no Lua rule for argoproj.io/Workflow (resource_customizations/argoproj.io/ has none): its
# verdict comes from Go, gitops-engine's pkg/health, at the version Argo CD's go.mod pins. From v3.3 on that
# code is a nested module of the argo-cd repository, which the Go proxy does not serve; v3.2 pins the
# standalone github.com/argoproj/gitops-engine module, hence ARGOCD_VERSION's line (cluster/versions.sh).
# Prints the cache directories, one a line, in the order asked. Exits at once for what is complete.
# Safe to run concurrently (flock per product); a killed build leaves no half-filled cache (atomic mv).
# Test needs only: never installed, never shipped. Usage: build-argo-cli.sh [all|cli|argocd]
# Env: SLUICE_BUILD_JOBS (go build -p, default 2), SLUICE_BUILD_NICE (default 10).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
. "$HERE/gomod.sh"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
JOBS=${SLUICE_BUILD_JOBS:-2}
NICE=${SLUICE_BUILD_NICE:-10}
log() { echo "[build-argo-cli $(date +%H:%M:%S)] $*" >&2; }
command -v go >/dev/null || { echo "build-argo-cli: Go is required (go >= 1.25)" >&2; exit 1; }

lock() {  # lock DIR: wait for another build of the same product
  mkdir -p "$1"; exec 8>"$1/.lock"
  if ! flock -n 8; then log "another build holds $1/.lock; waiting"; flock 8; fi
}

build_cli() {
  local D="$SLUICE_CACHE_DIR/argo-cli-$ARGO_VERSION"
  lock "$D"
  if [[ ! -f "$D/bin/.complete" ]]; then
    local t0=$SECONDS
    log "building argo CLI $ARGO_VERSION (log: $D/build.log)"
    rm -rf "$D/bin.tmp"; mkdir -p "$D/bin.tmp"
    (
      module_copy github.com/argoproj/argo-workflows/v4 "$ARGO_VERSION" "$D/src"
      cd "$D/src"
      argo_fix_symlinks .
      # The CLI embeds the UI (ui/embed.go: //go:embed dist/app), which upstream builds with npm. Kube mode
      # never serves it: one placeholder page satisfies the embed.
      mkdir -p ui/dist/app
      echo '<!doctype html><title>Argo UI not built</title>' >ui/dist/app/index.html
      ldf="-s -w -X github.com/argoproj/argo-workflows/v4.version=$ARGO_VERSION"
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$D/bin.tmp/argo" ./cmd/argo
    ) >"$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; log "argo CLI build FAILED"; exit 1; }
    "$D/bin.tmp/argo" version --short >/dev/null
    touch "$D/bin.tmp/.complete"; rm -rf "$D/bin" "$D/src"; mv "$D/bin.tmp" "$D/bin"
    log "argo CLI built in $((SECONDS - t0)) s; $(grep -E 'Maximum resident' "$D/build-time.txt" | sed 's/^[[:space:]]*//')"
  fi
  exec 8>&-
  echo "$D"
}

build_argocd_health() {
  local D="$SLUICE_CACHE_DIR/argocd-health-$ARGOCD_VERSION"
  lock "$D"
  if [[ ! -f "$D/bin/.complete" ]]; then
    local t0=$SECONDS
    log "building argocd-health with Argo CD $ARGOCD_VERSION's health code (log: $D/build.log)"
    rm -rf "$D/bin.tmp" "$D/work"; mkdir -p "$D/bin.tmp" "$D/work"
    (
      cd "$D/work"
      argocd=$(module_dir github.com/argoproj/argo-cd/v3 "$ARGOCD_VERSION")
      engine=$(sed -n 's#^[[:space:]]*github.com/argoproj/gitops-engine[[:space:]]\{1,\}\(v[^[:space:]]*\).*#\1#p' "$argocd/go.mod")
      [[ -n "$engine" ]] || { echo "argo-cd $ARGOCD_VERSION pins no github.com/argoproj/gitops-engine" >&2; exit 1; }
      echo "github.com/argoproj/gitops-engine $engine" >"$D/bin.tmp/gitops-engine-version"
      cp "$HERE/argocd-health/main.go" .
      go mod init local.invalid/argocdhealth
      retry go get "github.com/argoproj/gitops-engine@$engine"
      # gitops-engine requires k8s.io/kubernetes, whose staging modules only resolve through replace lines,
      # which a dependency's go.mod cannot pass on: repeat gitops-engine's own.
      src=$(module_dir github.com/argoproj/gitops-engine "$engine")
      sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]\{1,\}\(v[^[:space:]]*\).*#\1=\2@\3#p' \
        "$src/go.mod" | while read -r r; do go mod edit -replace="$r"; done
      retry go mod tidy
      /usr/bin/time -v -o "$D/build-time.txt" nice -n "$NICE" \
        go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$D/bin.tmp/argocd-health" .
    ) >"$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; log "argocd-health build FAILED"; exit 1; }
    echo '[]' | "$D/bin.tmp/argocd-health" >/dev/null
    touch "$D/bin.tmp/.complete"; rm -rf "$D/bin" "$D/work"; mv "$D/bin.tmp" "$D/bin"
    log "argocd-health built in $((SECONDS - t0)) s"
  fi
  exec 8>&-
  echo "$D"
}

case "${1:-all}" in
  all) build_cli; build_argocd_health ;;
  cli) build_cli ;;
  argocd) build_argocd_health ;;
  *) echo "usage: $0 [all|cli|argocd]" >&2; exit 2 ;;
esac
