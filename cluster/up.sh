#!/usr/bin/env bash
# Bring up the project's single-node Kubernetes cluster (make cluster-up). Idempotent: when the cluster
# of this directory is already up and its node Ready, it only says so.
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy  (built by build-k8s.sh)
#   containerd + runc + bridge CNI (Debian), images imported with ctr (build-images.sh), a read-only
#   loopback registry for the same images, MinIO on the node address (artifact store), and the cluster
#   DNS (CoreDNS, build-coredns.sh) on the node address, serving cluster.local only and forwarding nothing.
#
# Everything lives in $SLUICE_CLUSTER_DIR (default .cluster/): bin/ (links), pki/, conf/, logs/, pids/,
# state/, and the admin kubeconfig at $SLUICE_CLUSTER_DIR/kubeconfig. Machine-wide: /run/sluice-cluster.
# Network safety (cluster/README.md): pods get only the cluster DNS as nameserver, Pod Security "baseline" keeps
# them out of the host network namespace, and an iptables FORWARD
# REJECT drops anything from the pod range that would leave through any interface other than the bridge.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"

T0=$SECONDS
[[ $(id -u) == 0 ]] || die "cluster-up needs root"
mkdir -p "$BIN" "$PKI" "$LOGS" "$PIDS" "$STATE" "$CONF" "$RUN"

# Which component we are starting, for the failure report.
CURRENT=preparation
CURRENT_LOG=""
on_error() {
  local rc=$?
  echo >&2
  log "cluster-up FAILED while starting: $CURRENT (exit $rc)"
  [[ -n "$CURRENT_LOG" ]] && tail_log "$CURRENT_LOG" 60
  for f in "$LOGS"/*.log; do
    [[ "$f" == "$CURRENT_LOG" ]] && continue
    [[ -s "$f" ]] && tail_log "$f" 8
  done
  log "logs: $LOGS ; clean up with: make cluster-down"
  exit "$rc"
}
trap on_error ERR

kubectl_() { "$BIN/kubectl" --kubeconfig "$PKI/admin.conf" --request-timeout=20s "$@"; }

node_ready() {
  [[ "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

all_alive() {
  local c
  for c in containerd registry etcd kube-apiserver kube-controller-manager kube-scheduler coredns kubelet kube-proxy minio; do
    pid_alive "$c" || return 1
  done
}

CTR=(ctr --address "$RUN/containerd/containerd.sock" -n k8s.io)
import_images() {
  CURRENT="image import"; CURRENT_LOG="$LOGS/images.log"
  local attempt imported name
  for attempt in 1 2 3; do
    if "${CTR[@]}" images import --snapshotter overlayfs "$CLUSTER_DIR/images/images.tar" >>"$LOGS/images.log" 2>&1; then break; fi
    ((attempt < 3)) || { log "ctr images import failed 3 times"; return 1; }
    sleep 2
  done
  imported=$("${CTR[@]}" images ls -q)
  for name in $(cut -d' ' -f2- "$CLUSTER_DIR/images/images.list"); do
    grep -qx "$name" <<<"$imported" || { log "image $name missing after import"; return 1; }
  done
}

# --- packages, binaries, images (before the lock: a running cluster is not disturbed meanwhile) ---
CURRENT="Debian packages"; CURRENT_LOG=/tmp/sluice-apt.log
"$CLUSTER_SRC/install-deps.sh"
CURRENT="Kubernetes/etcd build"; CURRENT_LOG=""
"$CLUSTER_SRC/build-k8s.sh" all
CURRENT="MinIO build"
MINIO_BIN=$("$CLUSTER_SRC/build-minio.sh")
CURRENT="CoreDNS build"
COREDNS_BIN=$("$CLUSTER_SRC/build-coredns.sh")
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  ln -sfn "$SLUICE_CACHE_DIR/k8s-$K8S_VERSION/bin/$b" "$BIN/$b"
done
for b in etcd etcdctl; do ln -sfn "$SLUICE_CACHE_DIR/etcd-$ETCD_VERSION/bin/$b" "$BIN/$b"; done
ln -sfn "$MINIO_BIN" "$BIN/minio"
ln -sfn "$COREDNS_BIN" "$BIN/coredns"
ln -sfn /usr/bin/ctr "$BIN/ctr"
CURRENT="images"
"$CLUSTER_SRC/build-images.sh"
log "binaries and images ready after $((SECONDS - T0)) s"

# One cluster-up/down at a time on this machine (from here on).
CURRENT="waiting for the cluster lock"
lifecycle_lock

# --- already up? Then only import the images just rebuilt (the Sluice image follows the working tree).
if [[ -f "$RUN/owner" && "$(cat "$RUN/owner")" == "$CLUSTER_DIR" ]] && all_alive && node_ready; then
  import_images
  log "cluster already up, images refreshed (kubeconfig: $KUBECONFIG_OUT)"
  exit 0
fi
# Anything left from an earlier run (this directory or another one on this machine): tear it down first.
if [[ -f "$RUN/owner" ]] || ip link show "$BRIDGE" >/dev/null 2>&1 || ls "$PIDS"/*.pid >/dev/null 2>&1; then
  log "found state of an earlier cluster; tearing it down first"
  CURRENT="teardown of the earlier cluster"
  "$CLUSTER_SRC/down.sh"
  mkdir -p "$BIN" "$PKI" "$LOGS" "$PIDS" "$STATE" "$CONF" "$RUN"
fi

# --- host checks ---
CURRENT="host checks"
[[ -d /sys/fs/cgroup/memory && -d /sys/fs/cgroup/cpu && -d /sys/fs/cgroup/cpuset ]] ||
  die "cgroup v1 hierarchies (memory, cpu, cpuset) are required; see cluster/README.md"
[[ -e /dev/kmsg ]] || die "/dev/kmsg is missing (the kubelet's OOM watcher needs it)"
# port_free ADDR:PORT: nothing listens there, nor on the wildcard address of that port.
port_free() {
  local addr=${1%:*} port=${1##*:}
  ! ss -Hltn "sport = :$port" | awk '{print $4}' | grep -E "^($addr|0\.0\.0\.0|\*|\[::\]):$port\$" >/dev/null
}
for ap in "0.0.0.0:$APISERVER_PORT" "127.0.0.1:$APISERVER_PORT" "$NODE_IP:$APISERVER_PORT" "127.0.0.1:$ETCD_PORT" \
    127.0.0.1:2380 "127.0.0.1:$REGISTRY_PORT" "$NODE_IP:10250" 127.0.0.1:10248 127.0.0.1:10257 127.0.0.1:10259 \
    127.0.0.1:10249 127.0.0.1:10256 "$NODE_IP:$MINIO_PORT" "127.0.0.1:$MINIO_CONSOLE_PORT" "$DNS_IP:53" "127.0.0.1:$DNS_READY_PORT"; do
  port_free "$ap" || die "$ap is in use: $(ss -Hltnp "sport = :${ap##*:}" | head -3)"
done

# --- machine state: sysctls (saved once, restored by down), node address, cgroups, firewall ---
CURRENT="host network and cgroups"
if [[ ! -f "$RUN/sysctl.saved" ]]; then
  : >"$RUN/sysctl.saved.tmp"
  for s in $SAVED_SYSCTLS; do
    v=$(sysctl -n "$s" 2>/dev/null) && printf '%s=%s\n' "$s" "$v" >>"$RUN/sysctl.saved.tmp"
  done
  mv "$RUN/sysctl.saved.tmp" "$RUN/sysctl.saved"
fi
echo "$CLUSTER_DIR" >"$RUN/owner"
ip addr show dev lo | grep " $NODE_IP/32" >/dev/null || ip addr add "$NODE_IP/32" dev lo

# The kubelet's cgroupRoot: beside this job in the memory hierarchy (so the sandbox accounts for pods),
# created in every v1 hierarchy (cpuset needs cpus/mems copied down at each level).
mem_cg=$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)
CGROUP_ROOT="${mem_cg%/}/sluice-k8s"
[[ "$CGROUP_ROOT" == /sluice-k8s || "$CGROUP_ROOT" == //sluice-k8s ]] && CGROUP_ROOT=/sluice-k8s
echo "$CGROUP_ROOT" >"$RUN/cgroup-root"
for h in /sys/fs/cgroup/*/; do
  h=${h%/}
  [[ -f "$h/cgroup.procs" ]] || continue
  path=$h
  IFS=/ read -ra parts <<<"${CGROUP_ROOT#/}"
  for p in "${parts[@]}"; do
    parent=$path; path="$path/$p"
    if [[ ! -d "$path" ]]; then
      mkdir "$path"
      if [[ -f "$path/cpuset.cpus" ]]; then
        cat "$parent/cpuset.cpus" >"$path/cpuset.cpus"
        cat "$parent/cpuset.mems" >"$path/cpuset.mems"
      fi
    fi
  done
done

# FORWARD: pods may only talk to each other (out through the bridge); anything else from the pod range
# that would be forwarded out of this machine is rejected. Re-inserted at the top after kube-proxy starts.
ensure_forward_reject() {
  # Insert at the top first, then remove older copies by number: the rule is never absent meanwhile.
  local n
  iptables -w -I FORWARD 1 -s "$POD_CIDR" ! -o "$BRIDGE" -m comment --comment sluice-cluster -j REJECT
  for n in $(iptables -w -L FORWARD -n --line-numbers | awk '/sluice-cluster/ && $1 != 1 {print $1}' | sort -rn); do
    iptables -w -D FORWARD "$n"
  done
  if ip6tables -w -L FORWARD -n >/dev/null 2>&1; then
    ip6tables -w -I FORWARD 1 -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment sluice-cluster -j REJECT
    for n in $(ip6tables -w -L FORWARD -n --line-numbers | awk '/sluice-cluster/ && $1 != 1 {print $1}' | sort -rn); do
      ip6tables -w -D FORWARD "$n"
    done
  fi
}
ensure_forward_reject

# The kubelet's resolvConf (the host's side of a pod's DNS): no nameserver, so none of the host's reaches
# a pod; pods of dnsPolicy ClusterFirst get the cluster DNS (clusterDNS below) and nothing else. Not
# empty: containerd copies the host's /etc/resolv.conf into a pod when the kubelet's DNS config is empty.
printf '# sluice cluster: no host nameserver for pods\noptions timeout:1 attempts:1\n' >"$CONF/resolv.conf"
# Pod Security "baseline" for every namespace (no hostNetwork, hostPID, hostPath, privileged...): a pod
# in the host's network namespace would bypass the FORWARD rule. A namespace opts out with the label
# pod-security.kubernetes.io/enforce=privileged.
cat >"$CONF/admission.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline, enforce-version: latest, warn: baseline, warn-version: latest}
    exemptions: {usernames: [], runtimeClasses: [], namespaces: [kube-system]}
EOF

# --- certificates and kubeconfigs ---
CURRENT="PKI"
"$CLUSTER_SRC/gen-pki.sh" "$PKI" "$NODE_NAME" "$NODE_IP" "$SERVICE_IP" "$APISERVER_PORT"

# start NAME cmd... : a daemon in its own session, stdout+stderr to logs/NAME.log, PID in pids/NAME.pid
start() {
  local name=$1; shift
  CURRENT=$name; CURRENT_LOG="$LOGS/$name.log"
  echo "=== $(date -u +%FT%TZ) start: $*" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$PIDS/$name.pid"
  sleep 0.5
  pid_alive "$name" || { log "$name exited at once"; return 1; }
}
must_wait() { # must_wait SECONDS NAME what cmd...  (fails if the daemon died or the wait timed out)
  local t=$1 name=$2 what=$3; shift 3
  local deadline=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    pid_alive "$name" || { log "$name died while waiting for $what"; return 1; }
    ((SECONDS < deadline)) || { log "timed out after ${t}s waiting for $what"; return 1; }
    sleep 1
  done
}

# --- containerd ---
mkdir -p "$STATE/containerd" "$RUN/containerd" "$CONF/cni/net.d" "$CONF/certs.d" "$STATE/cni"
cat >"$CONF/cni/net.d/10-sluice.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "sluice",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE/cni/ipam",
              "ranges": [[{"subnet": "$POD_SUBNET"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
# Pulls of our image names go to the loopback registry, never to the named hosts.
for host in docker.io quay.io registry.k8s.io ghcr.io sluice.local; do
  mkdir -p "$CONF/certs.d/$host"
  cat >"$CONF/certs.d/$host/hosts.toml" <<EOF
server = "http://127.0.0.1:$REGISTRY_PORT"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
done
cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd/state"
[grpc]
  address = "$RUN/containerd/containerd.sock"
[ttrpc]
  address = "$RUN/containerd/containerd.sock.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
  tolerate_missing_hugepages_controller = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONF/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CONF/certs.d"
EOF
# Any registry not configured above goes through a proxy address nobody serves: it fails at once,
# without a DNS lookup or a connection off this machine.
start containerd env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  containerd --config "$CONF/containerd.toml"
must_wait 60 containerd "the containerd socket" "${CTR[@]}" version

import_images

start registry python3 "$CLUSTER_SRC/images/registry.py" "$CLUSTER_DIR/images/store" --port "$REGISTRY_PORT"
# Ready when it serves the store (the pause image's manifest), not merely when it answers.
must_wait 20 registry "the image registry" curl -fsS --noproxy '*' -o /dev/null -I \
  "http://127.0.0.1:$REGISTRY_PORT/v2/pause/manifests/3.10?ns=registry.k8s.io"

# --- etcd ---
start etcd etcd --name sluice --data-dir "$STATE/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster sluice=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
must_wait 60 etcd "etcd health" etcdctl --endpoints "http://127.0.0.1:$ETCD_PORT" endpoint health

# --- kube-apiserver ---
start kube-apiserver kube-apiserver \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --advertise-address "$NODE_IP" --bind-address 0.0.0.0 --secure-port "$APISERVER_PORT" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction,PodSecurity --allow-privileged=true \
  --admission-control-config-file "$CONF/admission.yaml" \
  --profiling=false --v=1
must_wait 120 kube-apiserver "the API server's /readyz" kubectl_ get --raw /readyz

# --- the cluster DNS (before the kubelet: a pod's first lookup finds it serving) ---
# Its user (pki/cluster-dns.conf) may only list and watch what the kubernetes plugin reads.
CURRENT="cluster DNS RBAC"
kubectl_ apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "sluice:cluster-dns"}
rules:
- {apiGroups: [""], resources: [services, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "sluice:cluster-dns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "sluice:cluster-dns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "sluice:cluster-dns"}]
EOF
# The Corefile serves cluster.local only, with no upstream at all: a name outside it is answered NXDOMAIN
# by the server itself, never forwarded. NXDOMAIN rather than CoreDNS's REFUSED for a zone it has no
# block for: a pod's resolver (glibc) turns REFUSED into "Temporary failure in name resolution", which
# clients retry; NXDOMAIN is a plain "Name or service not known".
# Its files live in $RUN (mode 755), not in the clone, whose folder nobody may be unable to enter (a
# clone under /root or in a mktemp -d folder); the binary is run from the cache ($SLUICE_CACHE_DIR).
DNS_DIR="$RUN/coredns"
install -d -m 0755 "$DNS_DIR"
install -m 0400 -o 65534 -g 65534 "$PKI/cluster-dns.conf" "$DNS_DIR/kubeconfig"
cat >"$DNS_DIR/Corefile.tmp" <<EOF
$CLUSTER_DOMAIN:53 {
    bind $DNS_IP
    errors
    log . {
        class denial error
    }
    ready 127.0.0.1:$DNS_READY_PORT
    kubernetes $CLUSTER_DOMAIN {
        kubeconfig $DNS_DIR/kubeconfig sluice
        ttl 5
    }
}
. {
    bind $DNS_IP
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
chmod 0644 "$DNS_DIR/Corefile.tmp"; mv "$DNS_DIR/Corefile.tmp" "$DNS_DIR/Corefile"
# As nobody, keeping only the capability to bind port 53.
start coredns setpriv --reuid 65534 --regid 65534 --clear-groups --no-new-privs \
  --bounding-set -all,+net_bind_service --inh-caps -all,+net_bind_service --ambient-caps -all,+net_bind_service \
  "$(readlink -f "$BIN/coredns")" -conf "$DNS_DIR/Corefile"
must_wait 60 coredns "the cluster DNS to be ready" curl -fsS --noproxy '*' "http://127.0.0.1:$DNS_READY_PORT/ready"

# --- controller manager, scheduler ---
start kube-controller-manager kube-controller-manager \
  --kubeconfig "$PKI/controller-manager.conf" \
  --authentication-kubeconfig "$PKI/controller-manager.conf" --authorization-kubeconfig "$PKI/controller-manager.conf" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false \
  --profiling=false --v=1
start kube-scheduler kube-scheduler \
  --kubeconfig "$PKI/scheduler.conf" \
  --authentication-kubeconfig "$PKI/scheduler.conf" --authorization-kubeconfig "$PKI/scheduler.conf" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v=1

# --- kubelet ---
mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
containerRuntimeEndpoint: unix://$RUN/containerd/containerd.sock
imageServiceEndpoint: unix://$RUN/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
protectKernelDefaults: false
podLogsDir: $STATE/pod-logs
resolvConf: $CONF/resolv.conf
clusterDNS: [$DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "0%", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
serializeImagePulls: false
registerNode: true
EOF
start kubelet kubelet --config "$CONF/kubelet.yaml" --kubeconfig "$PKI/kubelet.conf" \
  --root-dir "$STATE/kubelet" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --v=1
must_wait 120 kubelet "node $NODE_NAME to register" kubectl_ get node "$NODE_NAME"

# --- kube-proxy (Services, e.g. pods reaching the API server at $SERVICE_IP) ---
cat >"$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $PKI/kube-proxy.conf}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
iptables: {localhostNodePorts: false, masqueradeAll: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy kube-proxy --config "$CONF/kube-proxy.yaml" --v=1
proxy_synced() { iptables -w -t nat -S KUBE-SERVICES 2>/dev/null | grep -- "-d $SERVICE_IP/32" >/dev/null; }
must_wait 60 kube-proxy "kube-proxy's Service rules" proxy_synced
# kube-proxy adds its IPv6 chains on its own schedule: wait for them (briefly), then put ours back on top.
proxy6_synced() { ip6tables -w -S FORWARD 2>/dev/null | grep -- '-j KUBE-FORWARD' >/dev/null; }
if ip6tables -w -L FORWARD -n >/dev/null 2>&1; then wait_for 30 "kube-proxy's IPv6 rules" proxy6_synced || true; fi
CURRENT="firewall"; CURRENT_LOG=""
ensure_forward_reject

CURRENT="node Ready"; CURRENT_LOG="$LOGS/kubelet.log"
must_wait 180 kubelet "node $NODE_NAME to be Ready" node_ready

# --- MinIO on the node address (pods reach it at $NODE_IP:$MINIO_PORT) ---
mkdir -p "$STATE/minio"
start minio env MINIO_ROOT_USER=admin MINIO_ROOT_PASSWORD=password MINIO_BROWSER=off MINIO_UPDATE=off \
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,"$NODE_IP" \
  "$BIN/minio" server "$STATE/minio" --address "$NODE_IP:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet
must_wait 60 minio "MinIO's health" curl -fsS --noproxy '*' "http://$NODE_IP:$MINIO_PORT/minio/health/live"
CURRENT="MinIO bucket"
python3 "$CLUSTER_SRC/s3_bucket.py" "http://$NODE_IP:$MINIO_PORT" admin password my-bucket
cat >"$CLUSTER_DIR/minio.env" <<EOF
SLUICE_S3_ENDPOINT=$NODE_IP:$MINIO_PORT
SLUICE_S3_CLUSTER_ENDPOINT=minio.default.svc:$MINIO_PORT
SLUICE_S3_ACCESS_KEY=admin
SLUICE_S3_SECRET_KEY=password
SLUICE_S3_BUCKET=my-bucket
EOF

# --- cluster objects the tests and the quick-start expect ---
CURRENT="default objects"; CURRENT_LOG="$LOGS/kube-controller-manager.log"
must_wait 120 kube-controller-manager "the default service account" kubectl_ get serviceaccount default -n default
kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata: {name: my-minio-cred, namespace: default}
stringData: {accesskey: admin, secretkey: password}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: artifact-repositories
  namespace: default
  annotations: {workflows.argoproj.io/default-artifact-repository: default-v1}
data:
  default-v1: |
    archiveLogs: true
    s3:
      bucket: my-bucket
      endpoint: $NODE_IP:$MINIO_PORT
      insecure: true
      accessKeySecret: {name: my-minio-cred, key: accesskey}
      secretKeySecret: {name: my-minio-cred, key: secretkey}
---
# The node's MinIO by name for pods (minio.default.svc:9000, through the cluster DNS and kube-proxy), as
# Argo's quick-start names its MinIO; the ConfigMap above keeps the address, which this host also reads.
apiVersion: v1
kind: Service
metadata: {name: minio, namespace: default}
spec:
  ports: [{name: api, port: $MINIO_PORT, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: minio-node
  namespace: default
  labels: {kubernetes.io/service-name: minio, endpointslice.kubernetes.io/managed-by: sluice-cluster-up}
addressType: IPv4
endpoints: [{addresses: ["$NODE_IP"], conditions: {ready: true}}]
ports: [{name: api, port: $MINIO_PORT, protocol: TCP}]
EOF

CURRENT="firewall"; CURRENT_LOG=""
ensure_forward_reject   # once more, last: nothing may have been put before it meanwhile
cp "$PKI/admin.conf" "$KUBECONFIG_OUT.tmp"; chmod 600 "$KUBECONFIG_OUT.tmp"; mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
trap - ERR
log "cluster up in $((SECONDS - T0)) s: node $NODE_NAME Ready, Kubernetes $K8S_VERSION"
log "  export KUBECONFIG=$KUBECONFIG_OUT   (kubectl: $BIN/kubectl)"
log "  images: $SLUICE_IMAGE and $(($(wc -l <"$CLUSTER_DIR/images/images.list") - 1)) more; MinIO: http://$NODE_IP:$MINIO_PORT (admin/password, bucket my-bucket)"
