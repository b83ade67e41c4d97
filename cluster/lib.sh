# Common settings for cluster/*.sh (sourced). One project cluster per machine: fixed addresses and ports.
# shellcheck shell=bash
CLUSTER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CLUSTER_SRC/.." && pwd)
. "$CLUSTER_SRC/versions.sh"

CLUSTER_DIR=${SLUICE_CLUSTER_DIR:-$REPO/.cluster}
mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
BIN="$CLUSTER_DIR/bin"            # symlinks to the cached binaries
PKI="$CLUSTER_DIR/pki"
LOGS="$CLUSTER_DIR/logs"
PIDS="$CLUSTER_DIR/pids"
STATE="$CLUSTER_DIR/state"        # etcd data, containerd root, kubelet root, CNI state (removed by down)
CONF="$CLUSTER_DIR/conf"
KUBECONFIG_OUT="$CLUSTER_DIR/kubeconfig"
# Machine-wide runtime state (short paths for unix sockets; saved sysctls; which cluster dir is up).
RUN=/run/sluice-cluster

NODE_NAME=node0
NODE_IP=10.250.0.1                # a /32 on lo: the node's address, reachable from pods
POD_CIDR=10.244.0.0/16
POD_SUBNET=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
BRIDGE=cni0
APISERVER_PORT=6443
ETCD_PORT=2379
REGISTRY_PORT=${SLUICE_REGISTRY_PORT:-5111}   # local read-only image registry on 127.0.0.1
MINIO_PORT=9000
MINIO_CONSOLE_PORT=19001
# The cluster DNS (CoreDNS, build-coredns.sh) on the node address: pods reach it like the API server and
# MinIO, it needs no Service address of its own, and it is gone with the address when the cluster is down.
DNS_IP=$NODE_IP
DNS_READY_PORT=10053              # its readiness endpoint on 127.0.0.1 (the API server's data synced)
CLUSTER_DOMAIN=cluster.local
# Sysctls the kubelet, kube-proxy or the bridge plugin may change; saved by up, restored by down.
SAVED_SYSCTLS="net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory
  net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables"

SLUICE_IMAGE=sluice.local/sluice:dev

export PATH="$BIN:$PATH:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Never send cluster traffic through a proxy that may be set for package registries.
export NO_PROXY="127.0.0.1,localhost,$NODE_IP,$SERVICE_CIDR,$POD_CIDR${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

log() { echo "[cluster $(date +%H:%M:%S)] $*" >&2; }
die() { echo "[cluster $(date +%H:%M:%S)] ERROR: $*" >&2; exit 1; }

# Print the last lines of a log file (for failures).
tail_log() {
  local f=$1 n=${2:-40}
  [[ -f "$f" ]] || return 0
  echo "----- last $n lines of $f -----" >&2
  tail -n "$n" "$f" >&2
  echo "----- end of $f -----" >&2
}

# Wait until a command succeeds: wait_for SECONDS DESCRIPTION cmd...
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "timed out after ${timeout}s waiting for $what"; return 1; fi
    sleep 1
  done
}

# One lifecycle operation (up or down) at a time on this machine. Daemons must not inherit the lock fd.
lifecycle_lock() {
  [[ -n "${SLUICE_CLUSTER_LOCKED:-}" ]] && return 0
  mkdir -p "$RUN"
  exec 6>"/run/sluice-cluster.lock"
  if ! flock -n 6; then log "waiting for another cluster-up/down on this machine"; flock 6; fi
  export SLUICE_CLUSTER_LOCKED=1
}

pid_alive() { [[ -f "$PIDS/$1.pid" ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }
