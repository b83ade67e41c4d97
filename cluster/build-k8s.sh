#!/usr/bin/env bash
# Build the Kubernetes binaries and etcd from their Go modules, once per version, into a cache
# directory outside the clone: $SLUICE_CACHE_DIR/k8s-<ver>/bin (default /var/cache/sluice).
#   kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl  (k8s.io/kubernetes)
#   etcd etcdctl                                                                      (go.etcd.io/etcd)
# Exits at once when the cache is already complete. Safe to run concurrently (flock).
# Env: SLUICE_BUILD_JOBS (go build -p, default 2), SLUICE_BUILD_NICE (default 10).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"

log() { echo "[build-k8s $(date +%H:%M:%S)] $*" >&2; }
# retry CMD...: module downloads from the Go proxy can fail transiently.
retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    echo "attempt $i of: $* failed; retrying" >&2; sleep $((i * 10))
  done
  return 1
}

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
JOBS=${SLUICE_BUILD_JOBS:-2}
NICE=${SLUICE_BUILD_NICE:-10}

K8S_DIR="$SLUICE_CACHE_DIR/k8s-$K8S_VERSION"
ETCD_DIR="$SLUICE_CACHE_DIR/etcd-$ETCD_VERSION"
mkdir -p "$SLUICE_CACHE_DIR"

command -v go >/dev/null || { echo "build-k8s: Go is required (go >= 1.25)" >&2; exit 1; }

build_k8s() {
  if [[ -f "$K8S_DIR/bin/.complete" ]]; then log "kubernetes $K8S_VERSION cached in $K8S_DIR/bin"; return; fi
  local work="$K8S_DIR/work" t0=$SECONDS
  rm -rf "$work" "$K8S_DIR/bin.tmp"; mkdir -p "$work" "$K8S_DIR/bin.tmp"
  log "building kubernetes $K8S_VERSION in $work (log: $K8S_DIR/build.log)"
  (
    cd "$work"
    go mod init local.invalid/k8sbuild
    retry go mod download "k8s.io/kubernetes@$K8S_VERSION"
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
    [[ -f "$gomod" ]] || { echo "no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging paths;
    # a consumer has to repeat those replaces, pointing at the published tags.
    mods=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")
    [[ -n "$mods" ]] || { echo "no staging replaces found in $gomod" >&2; exit 1; }
    for m in $mods; do go mod edit -replace="$m=$m@$K8S_STAGING_VERSION"; done
    pkgs=""
    for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
      pkgs+=" k8s.io/kubernetes/cmd/$c"
    done
    # shellcheck disable=SC2086
    retry go get $(for p in $pkgs; do echo "$p@$K8S_VERSION"; done)
    minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
    ldf="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
      ldf+=" -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$K8S_DIR/build-time.txt" nice -n "$NICE" \
      go build -p "$JOBS" -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldf" -o "$K8S_DIR/bin.tmp/" $pkgs
  ) >"$K8S_DIR/build.log" 2>&1 || { tail -n 40 "$K8S_DIR/build.log" >&2; log "kubernetes build FAILED"; exit 1; }
  "$K8S_DIR/bin.tmp/kubectl" version --client >/dev/null
  touch "$K8S_DIR/bin.tmp/.complete"
  rm -rf "$K8S_DIR/bin"; mv "$K8S_DIR/bin.tmp" "$K8S_DIR/bin"
  log "kubernetes $K8S_VERSION built in $((SECONDS - t0)) s; $(grep -E 'Maximum resident' "$K8S_DIR/build-time.txt" | sed 's/^[[:space:]]*//')"
}

build_etcd() {
  if [[ -f "$ETCD_DIR/bin/.complete" ]]; then log "etcd $ETCD_VERSION cached in $ETCD_DIR/bin"; return; fi
  local work="$ETCD_DIR/work" t0=$SECONDS
  rm -rf "$work" "$ETCD_DIR/bin.tmp"; mkdir -p "$work" "$ETCD_DIR/bin.tmp"
  log "building etcd $ETCD_VERSION (log: $ETCD_DIR/build.log)"
  (
    cd "$work"
    go mod init local.invalid/etcdbuild
    # server/v3 has replace lines of its own, so `go install pkg@ver` is refused: build from a wrapper module.
    retry go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION"
    ldf="-s -w"
    /usr/bin/time -v -o "$ETCD_DIR/build-time.txt" nice -n "$NICE" \
      go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$ETCD_DIR/bin.tmp/etcd" go.etcd.io/etcd/server/v3
    nice -n "$NICE" go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$ETCD_DIR/bin.tmp/etcdctl" go.etcd.io/etcd/etcdctl/v3
  ) >"$ETCD_DIR/build.log" 2>&1 || { tail -n 40 "$ETCD_DIR/build.log" >&2; log "etcd build FAILED"; exit 1; }
  "$ETCD_DIR/bin.tmp/etcd" --version >/dev/null
  touch "$ETCD_DIR/bin.tmp/.complete"
  rm -rf "$ETCD_DIR/bin"; mv "$ETCD_DIR/bin.tmp" "$ETCD_DIR/bin"
  log "etcd $ETCD_VERSION built in $((SECONDS - t0)) s"
}

exec 9>"$SLUICE_CACHE_DIR/.build-k8s.lock"
if ! flock -n 9; then log "another build holds $SLUICE_CACHE_DIR/.build-k8s.lock; waiting"; flock 9; fi
what=${1:-all}
case "$what" in
  all) build_etcd; build_k8s ;;
  k8s) build_k8s ;;
  etcd) build_etcd ;;
  *) echo "usage: $0 [all|k8s|etcd]" >&2; exit 2 ;;
esac
