#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests of `sluice ui` (tests/integration/test_ui_browser.py)
# when it is missing; called by scripts/test.sh. Needs root (CI runs as root); without root it only says
# what is missing, and those tests then fail (they never skip). Playwright's own browser download is
# never used. Retries apt, which can race with other apt runs on the machine (as cluster/install-deps.sh).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [[ $(id -u) != 0 ]]; then
  echo "[install-browser] chromium is missing and this is not root: run 'apt-get install chromium' as root" >&2
  exit 0
fi
echo "[install-browser] installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if apt-get -o DPkg::Lock::Timeout=300 update -q >/tmp/sluice-apt-browser.log 2>&1 &&
     apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends chromium >>/tmp/sluice-apt-browser.log 2>&1; then
    exit 0
  fi
  echo "[install-browser] apt failed (attempt $attempt):" >&2; tail -n 15 /tmp/sluice-apt-browser.log >&2; sleep 10
done
exit 1
