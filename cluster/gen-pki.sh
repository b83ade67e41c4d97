#!/usr/bin/env bash
# Certificates, service-account keys and kubeconfigs for the project's cluster, with openssl only.
#   gen-pki.sh OUTDIR NODE_NAME NODE_IP SERVICE_IP APISERVER_PORT
# Keeps an existing, complete set (so a second `cluster-up` reuses it); CA valid 10 years, leaves 1 year.
set -euo pipefail
OUT=$1 NODE=$2 NODE_IP=$3 SVC_IP=$4 PORT=$5
mkdir -p "$OUT"; cd "$OUT"
# A set made before the cluster DNS had its certificate is made anew (the cluster is down meanwhile).
[[ -f .complete && -f cluster-dns.conf ]] && exit 0
rm -f ./*.crt ./*.key ./*.csr ./*.conf ./*.pub ./*.srl ./*.ext

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

key ca
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=sluice-cluster-ca" -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

# cert NAME SUBJECT USAGE [SANS]
cert() {
  local name=$1 subj=$2 usage=$3 sans=${4:-}
  key "$name"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE,IP:127.0.0.1,IP:$SVC_IP,IP:$NODE_IP"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
cert kubelet-client "/O=system:nodes/CN=system:node:$NODE" clientAuth
cert kubelet-serving "/O=system:nodes/CN=system:node:$NODE" serverAuth "DNS:$NODE,IP:$NODE_IP,IP:127.0.0.1"
# The cluster DNS: a user of its own, bound by up.sh to a ClusterRole that may only list and watch.
cert cluster-dns "/CN=sluice:cluster-dns" clientAuth
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
openssl pkey -in sa.key -pubout -out sa.pub
for c in apiserver apiserver-kubelet-client admin controller-manager scheduler kube-proxy kubelet-client kubelet-serving cluster-dns; do
  openssl verify -CAfile ca.crt "$c.crt" >/dev/null
done

b64() { base64 -w0 <"$1"; }
# kubeconfig FILE USER CERT SERVER
kubeconfig() {
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: sluice
  cluster:
    certificate-authority-data: $(b64 ca.crt)
    server: $4
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$3.crt")
    client-key-data: $(b64 "$3.key")
contexts:
- name: sluice
  context: {cluster: sluice, user: $2}
current-context: sluice
KC
  chmod 600 "$1"
}
kubeconfig admin.conf kubernetes-admin admin "https://127.0.0.1:$PORT"
kubeconfig controller-manager.conf system:kube-controller-manager controller-manager "https://$NODE_IP:$PORT"
kubeconfig scheduler.conf system:kube-scheduler scheduler "https://$NODE_IP:$PORT"
kubeconfig kube-proxy.conf system:kube-proxy kube-proxy "https://$NODE_IP:$PORT"
kubeconfig kubelet.conf "system:node:$NODE" kubelet-client "https://$NODE_IP:$PORT"
kubeconfig cluster-dns.conf sluice:cluster-dns cluster-dns "https://$NODE_IP:$PORT"
chmod 600 ./*.key
touch .complete
