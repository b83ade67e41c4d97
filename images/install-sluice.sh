#!/usr/bin/env bash
# The Sluice image's recipe, shared by images/Dockerfile (Docker) and the registry-less build of the
# project's test cluster (cluster/build-images.sh), so both make the same image:
#
#   install-sluice.sh deps ROOT [REPO]   Sluice's dependencies (pyproject.toml) → ROOT/opt/sluice/site
#   install-sluice.sh app  ROOT [REPO]   Sluice itself → ROOT/opt/sluice/app, `sluice` in ROOT/usr/local/bin,
#                                        the executor's static launcher when its build script exists
#   install-sluice.sh user ROOT          the non-root user sluice (1000:1000) and its home
#   install-sluice.sh config             the image configuration, one `KEY VALUE` a line
#
# ROOT is a directory that becomes image layers (or / inside a Docker build stage). The Python that
# runs pip ($PYTHON, default python3) must be CPython 3.11, as the image's Debian bookworm python3.
# The image runs as uid 1000, never root; its base is Debian bookworm with python3.
set -euo pipefail

UID_GID=1000:1000
PY=${PYTHON:-python3}
cmd=${1:?usage: install-sluice.sh deps|app|user|config ...}

# The image configuration (Dockerfile USER/WORKDIR/ENV/CMD say the same; tests/unit/test_crds_images.py
# checks that they and the cluster build agree).
config() {
  cat <<CONFIG
user $UID_GID
workdir /home/sluice
cmd ["sluice"]
env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
env PYTHONPATH=/opt/sluice/app:/opt/sluice/site
env PYTHONDONTWRITEBYTECODE=1
env HOME=/home/sluice
CONFIG
}

check_python() {
  "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    { echo "install-sluice.sh: $PY is not CPython 3.11 (the image's python3): wheels would not match" >&2; exit 1; }
}

pip_target() {
  "$PY" -m pip install -q --disable-pip-version-check --no-warn-script-location --target "$@"
}

case "$cmd" in
  deps)
    root=${2:?ROOT}; repo=${3:-.}
    check_python
    mkdir -p "$root/opt/sluice/site"
    mapfile -t deps < <("$PY" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' "$repo/pyproject.toml")
    pip_target "$root/opt/sluice/site" "${deps[@]}"
    rm -rf "$root/opt/sluice/site/bin"
    "$PY" -m compileall -q "$root/opt/sluice/site" >/dev/null || true
    chmod -R a+rX "$root/opt"
    ;;
  app)
    root=${2:?ROOT}; repo=${3:-.}
    check_python
    mkdir -p "$root/opt/sluice/app" "$root/usr/local/bin"
    pip_target "$root/opt/sluice/app" --no-deps "$repo"
    rm -rf "$root/opt/sluice/app/bin"
    "$PY" -m compileall -q "$root/opt/sluice/app" >/dev/null || true
    # The executor's launcher: a static binary that must run in any image (docs/architecture.md, "The pod").
    if [[ -x "$repo/executor-sidecar/build-launcher.sh" ]]; then
      "$repo/executor-sidecar/build-launcher.sh" "$root/usr/local/bin"
    fi
    printf '#!/bin/sh\nexec python3 -m sluice "$@"\n' >"$root/usr/local/bin/sluice"
    chmod 755 "$root/usr/local/bin/sluice"
    chmod -R a+rX "$root/opt" "$root/usr/local"
    ;;
  user)
    root=${2:?ROOT}
    mkdir -p "$root/etc" "$root/home/sluice" "$root/tmp"
    grep -q '^sluice:' "$root/etc/passwd" 2>/dev/null ||
      echo "sluice:x:${UID_GID%:*}:${UID_GID#*:}:sluice:/home/sluice:/usr/sbin/nologin" >>"$root/etc/passwd"
    grep -q '^sluice:' "$root/etc/group" 2>/dev/null || echo "sluice:x:${UID_GID#*:}:" >>"$root/etc/group"
    chown "$UID_GID" "$root/home/sluice"
    chmod 1777 "$root/tmp"
    ;;
  config)
    config
    ;;
  *)
    echo "install-sluice.sh: unknown step $cmd (deps, app, user, config)" >&2; exit 2
    ;;
esac
