#!/usr/bin/env bash
# Install the Debian packages the cluster needs (containerd, runc, CNI plugins, busybox, debootstrap,
# iptables, ...) when any is missing. Retries apt, which can race with other apt runs on the machine.
set -euo pipefail
. "$(dirname "$0")/versions.sh"
missing=()
for p in $DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "[install-deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if apt-get -o DPkg::Lock::Timeout=300 update -q >/tmp/sluice-apt.log 2>&1 &&
     apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >>/tmp/sluice-apt.log 2>&1; then
    exit 0
  fi
  echo "[install-deps] apt failed (attempt $attempt):" >&2; tail -n 15 /tmp/sluice-apt.log >&2; sleep 10
done
exit 1
