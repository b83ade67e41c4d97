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
# Safe to run concurrently (a lock per product); a killed build leaves no half-filled cache (cluster/lib-build.sh).
# Test needs only: never installed, never shipped. Usage: build-argo-cli.sh [all|cli|argocd]
# Env: SLUICE_BUILD_JOBS (go build -p, default 2), SLUICE_BUILD_NICE (default 10).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-build.sh"
build_init build-argo-cli 2 10

build_cli() {
  local D="$SLUICE_CACHE_DIR/argo-cli-$ARGO_VERSION"
  build_lock "$D/.lock"
  if build_needed "$D" "argo CLI $ARGO_VERSION"; then
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
    ) >>"$D/build.log" 2>&1 || build_failed "$D" "argo CLI"
    "$D/bin.tmp/argo" version --short >/dev/null
    build_publish "$D" "argo CLI $ARGO_VERSION" "$D/src"
  fi
  build_unlock
  echo "$D"
}

build_argocd_health() {
  local D="$SLUICE_CACHE_DIR/argocd-health-$ARGOCD_VERSION"
  build_lock "$D/.lock"
  if build_needed "$D" "argocd-health with Argo CD $ARGOCD_VERSION's health code"; then
    rm -rf "$D/work"; mkdir -p "$D/work"
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
    ) >>"$D/build.log" 2>&1 || build_failed "$D" argocd-health
    echo '[]' | "$D/bin.tmp/argocd-health" >/dev/null
    build_publish "$D" argocd-health "$D/work"
  fi
  build_unlock
  echo "$D"
}

case "${1:-all}" in
  all) build_cli; build_argocd_health ;;
  cli) build_cli ;;
  argocd) build_argocd_health ;;
  *) echo "usage: $0 [all|cli|argocd]" >&2; exit 2 ;;
esac
