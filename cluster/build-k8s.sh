#!/usr/bin/env bash
# Build the Kubernetes binaries and etcd from their Go modules, once per version, into a cache
# directory outside the clone: $SLUICE_CACHE_DIR/k8s-<ver>/bin (default /var/cache/sluice).
#   kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl  (k8s.io/kubernetes)
#   etcd etcdctl                                                                      (go.etcd.io/etcd)
# Exits at once when the cache is already complete. Safe to run concurrently (one lock for both); lock,
# cache and publish: cluster/lib-build.sh.
# Env: SLUICE_BUILD_JOBS (go build -p, default 2), SLUICE_BUILD_NICE (default 10).
set -euo pipefail
. "$(dirname "$0")/lib-build.sh"
build_init build-k8s 2 10

K8S_DIR="$SLUICE_CACHE_DIR/k8s-$K8S_VERSION"
ETCD_DIR="$SLUICE_CACHE_DIR/etcd-$ETCD_VERSION"

build_k8s() {
  build_needed "$K8S_DIR" "kubernetes $K8S_VERSION" || return 0
  local work="$K8S_DIR/work"
  rm -rf "$work"; mkdir -p "$work"
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
  ) >>"$K8S_DIR/build.log" 2>&1 || build_failed "$K8S_DIR" kubernetes
  "$K8S_DIR/bin.tmp/kubectl" version --client >/dev/null
  build_publish "$K8S_DIR" "kubernetes $K8S_VERSION"
}

build_etcd() {
  build_needed "$ETCD_DIR" "etcd $ETCD_VERSION" || return 0
  local work="$ETCD_DIR/work"
  rm -rf "$work"; mkdir -p "$work"
  (
    cd "$work"
    go mod init local.invalid/etcdbuild
    # server/v3 has replace lines of its own, so `go install pkg@ver` is refused: build from a wrapper module.
    retry go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION"
    ldf="-s -w"
    /usr/bin/time -v -o "$ETCD_DIR/build-time.txt" nice -n "$NICE" \
      go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$ETCD_DIR/bin.tmp/etcd" go.etcd.io/etcd/server/v3
    nice -n "$NICE" go build -p "$JOBS" -trimpath -ldflags "$ldf" -o "$ETCD_DIR/bin.tmp/etcdctl" go.etcd.io/etcd/etcdctl/v3
  ) >>"$ETCD_DIR/build.log" 2>&1 || build_failed "$ETCD_DIR" etcd
  "$ETCD_DIR/bin.tmp/etcd" --version >/dev/null
  build_publish "$ETCD_DIR" "etcd $ETCD_VERSION"
}

build_lock "$SLUICE_CACHE_DIR/.build-k8s.lock"
what=${1:-all}
case "$what" in
  all) build_etcd; build_k8s ;;
  k8s) build_k8s ;;
  etcd) build_etcd ;;
  *) echo "usage: $0 [all|k8s|etcd]" >&2; exit 2 ;;
esac
