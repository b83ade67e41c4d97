#!/usr/bin/env bash
# Tear down the project's cluster (make cluster-down). Idempotent; also cleans what an earlier cluster
# on this machine left (another clone's directory, a killed session). Stops every tracked process,
# kills the pods' processes, unmounts, deletes the bridge, the node address and our firewall rules,
# removes kube-proxy's rules, the pods' cgroups, the state directory, and restores the sysctls saved by up.
# Keeps logs/, pki/ and the built images (up.sh builds them before it tears down an earlier cluster). Exits 1 if anything is left behind (and says what).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || die "cluster-down needs root"
lifecycle_lock

dirs=("$CLUSTER_DIR")
if [[ -f "$RUN/owner" ]]; then
  other=$(cat "$RUN/owner")
  [[ "$other" != "$CLUSTER_DIR" && -d "$other" ]] && dirs+=("$other")
fi

# stop NAME: SIGTERM, up to 15 s, then SIGKILL (by the recorded PID only)
stop() {
  local d=$1 name=$2 pidf="$1/pids/$2.pid" pid i
  [[ -f "$pidf" ]] || return 0
  pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop; killing"
      kill -KILL "$pid" 2>/dev/null; sleep 0.5
    fi
  fi
  rm -f "$pidf"
}

# Processes in our pods' cgroups (containers, shims' children): killed by PID.
cg_root=$(cat "$RUN/cgroup-root" 2>/dev/null || true)
kill_cgroup_procs() {
  [[ -n "$cg_root" && -d "/sys/fs/cgroup/memory$cg_root" ]] || return 0
  local pids
  pids=$(find "/sys/fs/cgroup/memory$cg_root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
  [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
  return 0
}

T0=$SECONDS
for d in "${dirs[@]}"; do
  for c in kubelet kube-proxy kube-scheduler kube-controller-manager; do stop "$d" "$c"; done
done

# Pods: kill and remove every container task while containerd still runs, then the processes left.
sock="$RUN/containerd/containerd.sock"
if [[ -S "$sock" ]] && ctr --address "$sock" version >/dev/null 2>&1; then
  CTR=(ctr --address "$sock" -n k8s.io)
  for t in $(timeout 30 "${CTR[@]}" tasks ls -q 2>/dev/null); do
    timeout 10 "${CTR[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1
  done
  sleep 1
  for t in $(timeout 30 "${CTR[@]}" tasks ls -q 2>/dev/null); do
    timeout 10 "${CTR[@]}" tasks rm -f "$t" >/dev/null 2>&1
  done
  for c in $(timeout 30 "${CTR[@]}" containers ls -q 2>/dev/null); do
    timeout 10 "${CTR[@]}" containers rm "$c" >/dev/null 2>&1
  done
fi
kill_cgroup_procs
log "pods stopped ($((SECONDS - T0)) s)"

for d in "${dirs[@]}"; do
  for c in coredns minio kube-apiserver etcd registry containerd; do stop "$d" "$c"; done
done
# containerd-shim processes of our containerd (they outlive it by design): found by our socket path.
for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
kill_cgroup_procs
sleep 0.5

log "daemons stopped ($((SECONDS - T0)) s)"
# Mounts under our directories (deepest first), lazily.
for d in "${dirs[@]}" "$RUN"; do
  awk -v p="$d/" '{ if (index($5, p) == 1) print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
done

# Network: kube-proxy's rules, our firewall rules, the bridge, the node address.
kp=""
for d in "${dirs[@]}"; do [[ -x "$d/bin/kube-proxy" ]] && { kp="$d/bin/kube-proxy"; break; }; done
if [[ -n "$kp" ]] && { iptables -w -t nat -S KUBE-SERVICES >/dev/null 2>&1 || iptables -w -t filter -S KUBE-FORWARD >/dev/null 2>&1; }; then
  timeout 60 "$kp" --cleanup >/dev/null 2>&1 || log "kube-proxy --cleanup reported an error"
fi
# What kube-proxy --cleanup leaves (the kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) and the
# portmap plugin's CNI-* chains: jumps to them from the built-in chains, then the chains themselves.
for ipt in iptables ip6tables; do
  for t in filter nat mangle; do
    rules=$("$ipt" -w -t "$t" -S 2>/dev/null) || continue
    grep -E -- '^-A [A-Z]+ .*-j (KUBE-|CNI-)' <<<"$rules" | grep -Ev -- '^-A (KUBE-|CNI-)' | sed 's/^-A/-D/' |
      while read -r rule; do eval "$ipt" -w -t "$t" "$rule" 2>/dev/null; done
    for ch in $(awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-)/ {print $2}' <<<"$rules"); do "$ipt" -w -t "$t" -F "$ch" 2>/dev/null; done
    for ch in $(awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-)/ {print $2}' <<<"$rules"); do "$ipt" -w -t "$t" -X "$ch" 2>/dev/null; done
  done
done
while iptables -w -D FORWARD -s "$POD_CIDR" ! -o "$BRIDGE" -m comment --comment sluice-cluster -j REJECT 2>/dev/null; do :; done
while ip6tables -w -D FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment sluice-cluster -j REJECT 2>/dev/null; do :; done
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
for v in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  # veths whose master was our bridge (left only if a netns outlived its pod)
  ip -d link show "$v" 2>/dev/null | grep "master $BRIDGE" >/dev/null && ip link delete "$v" 2>/dev/null
done
ip addr show dev lo | grep " $NODE_IP/32" >/dev/null && ip addr del "$NODE_IP/32" dev lo

# cgroups: remove the pods' cgroup tree in every hierarchy, deepest first.
if [[ -n "$cg_root" ]]; then
  for h in /sys/fs/cgroup/*/; do
    [[ -d "${h%/}$cg_root" ]] || continue
    find "${h%/}$cg_root" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
fi

# sysctls back to what they were before the first cluster-up.
if [[ -f "$RUN/sysctl.saved" ]]; then
  while IFS='=' read -r k v; do
    [[ -n "$k" ]] && sysctl -q -w "$k=$v" >/dev/null 2>&1 || true
  done <"$RUN/sysctl.saved"
fi

for d in "${dirs[@]}"; do
  rm -rf "$d/state" "$d/pids" "$d/kubeconfig" "$d/minio.env"
done
rm -rf "$RUN"

# --- verify ---
left=()
for d in "${dirs[@]}"; do
  awk -v p="$d/" '{ if (index($5, p) == 1) print $5 }' /proc/self/mountinfo | grep . >/dev/null && left+=("mounts under $d")
done
ip link show "$BRIDGE" >/dev/null 2>&1 && left+=("bridge $BRIDGE")
ip addr show dev lo | grep " $NODE_IP/32" >/dev/null && left+=("address $NODE_IP on lo")
iptables -w -S FORWARD | grep sluice-cluster >/dev/null && left+=("FORWARD rule")
iptables -w -S | grep -- '-N KUBE-' >/dev/null && left+=("KUBE-* iptables chains")
pgrep -f "containerd-shim-runc-v2 .*-address $sock" >/dev/null && left+=("containerd shims")
[[ -n "$cg_root" && -d "/sys/fs/cgroup/memory$cg_root" ]] && left+=("cgroup $cg_root")
if ((${#left[@]})); then
  log "cluster-down left behind: ${left[*]}"
  exit 1
fi
log "cluster down ($((SECONDS - T0)) s)"
