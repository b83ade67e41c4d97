# Pinned versions of everything the project's cluster builds or installs. Sourced by cluster/*.sh.
# Changing a version changes the cache key: the next run rebuilds into a new cache directory.
K8S_VERSION=v1.35.4        # k8s.io/kubernetes (newest 1.35 patch the Go module proxy serves)
K8S_STAGING_VERSION=v0.35.4  # the matching staging modules (k8s.io/api, client-go, kubelet, ...)
ETCD_VERSION=v3.6.16       # go.etcd.io/etcd/server/v3 + etcdctl/v3
# github.com/minio/minio tags no semver releases; the proxy serves its commits as pseudo-versions.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# Debian packages (bookworm): containerd, runc, CNI plugins, busybox, debootstrap.
DEBIAN_PACKAGES="containerd runc containernetworking-plugins busybox-static debootstrap iptables iproute2 openssl
  gcc libc6-dev util-linux conntrack curl ca-certificates time"

# Where built binaries are cached, keyed by version, outside any clone so CI and later runs reuse them.
SLUICE_CACHE_DIR=${SLUICE_CACHE_DIR:-/var/cache/sluice}

# Go may be installed without being on PATH (e.g. a non-login shell): the usual place last.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
# Real clients the e2e tier checks Sluice's Workflows with (cluster/build-argo-cli.sh): Argo's `argo` CLI
# (github.com/argoproj/argo-workflows/v4) and Argo CD's health rules (github.com/argoproj/argo-cd/v3).
ARGO_VERSION=v4.0.5
ARGOCD_VERSION=v3.2.12    # newest line whose health code (gitops-engine) the Go proxy serves: see build-argo-cli.sh
# The GCS emulator the executor's GCS driver is tested against (cluster/build-fake-gcs-server.sh; test only).
FAKE_GCS_SERVER_VERSION=v1.56.1
# github.com/coredns/coredns: the newest release built against the cluster's client-go (v0.35.4), so its
# Kubernetes packages come from the module cache build-k8s.sh fills (v1.15.0 needs client-go v0.37).
COREDNS_VERSION=v1.14.7
