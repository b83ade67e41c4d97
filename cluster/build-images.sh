#!/usr/bin/env bash
# Build every image the cluster uses into an OCI layout store, $CLUSTER_DIR/images/store, and pack it
# as $CLUSTER_DIR/images/images.tar for `ctr images import`. No registry, no Docker.
# Base layers are cached in $SLUICE_CACHE_DIR/images (keyed by their inputs); the Sluice image's
# dependency layer is keyed by pyproject.toml, and its application layer is rebuilt from the working
# tree on every run.
#   registry.k8s.io/pause:3.10                       our pause.c, static
#   busybox:{latest,1.35,1.36,1.37}, alpine:{latest,3,3.19..3.23}   Debian's busybox-static
#   argoproj/argosay:{v1,v2}                         busybox + our argosay (cluster/images/argosay)
#   python:{alpine3.23,3,3.11,latest,...}, debian:{latest,bookworm,12}   Debian bookworm + python3
#   sluice.local/minio:$MINIO_VERSION                the MinIO server build-minio.sh builds (quick-start overlay)
#   sluice.local/sluice:dev                          Debian python + `pip install .` of this tree, user 1000
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PY=${PYTHON:-python3}
CACHE="$SLUICE_CACHE_DIR/images"
IMG="$CLUSTER_DIR/images"
STORE="$IMG/store"
WORK="$IMG/work"
mkdir -p "$CACHE" "$IMG"
rm -rf "$STORE" "$WORK"; mkdir -p "$STORE" "$WORK"

exec 8>"$CACHE/.lock"; flock 8

# tar a rootfs directory into an uncompressed layer (numeric owners, sorted, /dev /proc /sys left empty).
mklayer() {
  local dir=$1 out=$2
  tar -C "$dir" --numeric-owner --sort=name --xattrs \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$out.tmp" .
  mv "$out.tmp" "$out"
}
sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

mkimage() { "$PY" "$CLUSTER_SRC/images/mkimage.py" "$STORE" "$@" >>"$IMG/images.list"; }
: >"$IMG/images.list"

# --- pause ---
pause_layer="$CACHE/pause-$(sha "$CLUSTER_SRC/images/pause.c").tar"
if [[ ! -f "$pause_layer" ]]; then
  d="$WORK/pause"; mkdir -p "$d"
  gcc -static -Os -s -o "$d/pause" "$CLUSTER_SRC/images/pause.c"
  mklayer "$d" "$pause_layer"
fi
mkimage --name registry.k8s.io/pause:3.10 --layer "$pause_layer" --entrypoint '["/pause"]' --user 65535:65535

# --- busybox (and the alpine names) ---
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
bb_layer="$CACHE/busybox-$bb_ver.tar"
if [[ ! -f "$bb_layer" ]]; then
  d="$WORK/busybox"; mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/tmp}
  cp /bin/busybox "$d/bin/busybox"
  for a in $(/bin/busybox --list-full); do
    [[ "$a" == bin/busybox ]] && continue
    mkdir -p "$d/$(dirname "$a")"; ln -sf /bin/busybox "$d/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  chmod 1777 "$d/tmp" "$d/var/tmp"; chmod 700 "$d/root"
  mklayer "$d" "$bb_layer"
fi
mkimage --layer "$bb_layer" --cmd '["sh"]' \
  --name busybox:latest --name busybox:1.35 --name busybox:1.36 --name busybox:1.37 --name busybox:stable \
  --name alpine:latest --name alpine:3 --name alpine:3.19 --name alpine:3.20 --name alpine:3.21 \
  --name alpine:3.22 --name alpine:3.23

# --- argosay ---
as_layer="$CACHE/argosay-$(sha "$CLUSTER_SRC"/images/argosay/*.go "$CLUSTER_SRC/images/argosay/go.mod").tar"
if [[ ! -f "$as_layer" ]]; then
  d="$WORK/argosay"; mkdir -p "$d/bin" "$d/usr/bin"
  (cd "$CLUSTER_SRC/images/argosay" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w" -o "$d/argosay" .)
  ln -s /argosay "$d/bin/argosay"
  cat >"$d/usr/bin/cowsay" <<'COW'
#!/bin/sh
# cowsay stand-in for argosay-based examples
msg="$*"; line=$(printf '%s' "$msg" | sed 's/./-/g')
printf ' _%s_\n< %s >\n -%s-\n        \\   ^__^\n         \\  (oo)\\_______\n            (__)\\       )\\/\\\n                ||----w |\n                ||     ||\n' "$line" "$msg" "$line"
COW
  chmod 755 "$d/usr/bin/cowsay"
  mklayer "$d" "$as_layer"
fi
mkimage --layer "$bb_layer" --layer "$as_layer" --entrypoint '["/argosay"]' \
  --name argoproj/argosay:v2 --name argoproj/argosay:v1 --name quay.io/argoproj/argosay:v2

# --- Debian bookworm + python3 (the python:* and debian:* names) ---
# ca-certificates: the executor's S3 client (obstore/reqwest) refuses to start without a CA bundle,
# even for plain-http endpoints.
deb_key="bookworm-python3-ca-v2"
deb_layer="$CACHE/debian-python-$deb_key.tar"
if [[ ! -f "$deb_layer" ]]; then
  d="$WORK/debian"
  log "debootstrap bookworm (python3, ca-certificates) into $d"
  mirror=${SLUICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
  for attempt in 1 2 3; do
    rm -rf "$d"
    if debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$d" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
      break
    fi
    tail_log "$WORK/debootstrap.log" 20
    ((attempt == 3)) && die "debootstrap failed 3 times"
    log "debootstrap failed (attempt $attempt); retrying"; sleep 5
  done
  rm -rf "$d"/var/lib/apt/lists/* "$d"/var/cache/apt/* "$d"/usr/share/doc/* "$d"/usr/share/man/* \
         "$d"/usr/share/info/* "$d"/var/log/*.log "$d"/var/cache/debconf/*-old "$d"/debootstrap
  find "$d/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
  ln -sf python3 "$d/usr/bin/python"
  : >"$d/etc/resolv.conf"; echo sluice >"$d/etc/hostname"
  mklayer "$d" "$deb_layer"
  rm -rf "$d"
fi
mkimage --layer "$deb_layer" --cmd '["python3"]' \
  --name python:alpine3.23 --name python:3 --name python:3.11 --name python:3.11-slim --name python:3-slim \
  --name python:3.12 --name python:3.13 --name python:slim --name python:latest --name python:alpine \
  --name debian:latest --name debian:bookworm --name debian:12 --name debian:bookworm-slim

# --- MinIO: the quick-start overlay's `minio` image (manifests/overlays/quick-start/kustomization.yaml) ---
# The server up.sh runs on the node (build-minio.sh: cached per version), alone in a layer, as user 65532.
minio_layer="$CACHE/minio-$MINIO_VERSION.tar"
if [[ ! -f "$minio_layer" ]]; then
  minio_bin=$("$CLUSTER_SRC/build-minio.sh")
  d="$WORK/minio"; mkdir -p "$d"/{usr/bin,etc,tmp,data}
  install -m 0755 "$minio_bin" "$d/usr/bin/minio"
  printf 'root:x:0:0::/root:/bin/false\nminio:x:65532:65532::/tmp:/bin/false\n' >"$d/etc/passwd"
  printf 'root:x:0:\nminio:x:65532:\n' >"$d/etc/group"
  chmod 1777 "$d/tmp"; chown 65532:65532 "$d/data"
  mklayer "$d" "$minio_layer"
  rm -rf "$d"
fi
mkimage --layer "$minio_layer" --entrypoint '["/usr/bin/minio"]' --user 65532:65532 \
  --name "sluice.local/minio:$MINIO_VERSION"

# --- Sluice: dependencies (keyed by pyproject.toml), then this working tree ---
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  die "$PY is not Python 3.11 (the image's Debian python3): the wheels would not match"
deps_layer="$CACHE/sluice-deps-$(sha "$REPO/pyproject.toml").tar"
if [[ ! -f "$deps_layer" ]]; then
  d="$WORK/sluice-deps"; mkdir -p "$d/opt/sluice/site"
  mapfile -t deps < <("$PY" -c 'import tomllib,sys; print("\n".join(tomllib.load(open(sys.argv[1],"rb"))["project"]["dependencies"]))' "$REPO/pyproject.toml")
  log "pip install of Sluice's dependencies into the image (${#deps[@]} requirements)"
  for attempt in 1 2 3; do
    rm -rf "$d/opt/sluice/site"; mkdir -p "$d/opt/sluice/site"
    "$PY" -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --target "$d/opt/sluice/site" "${deps[@]}" >"$WORK/pip-deps.log" 2>&1 && break
    tail_log "$WORK/pip-deps.log" 15
    ((attempt < 3)) || die "pip install of the dependencies failed 3 times"
    log "pip install failed (attempt $attempt); retrying"; sleep 10
  done
  rm -rf "$d/opt/sluice/site/bin"
  "$PY" -m compileall -q -j 2 "$d/opt/sluice/site" >/dev/null || true
  chmod -R a+rX "$d/opt"
  mklayer "$d" "$deps_layer"
fi
d="$WORK/sluice-app"; mkdir -p "$d/opt/sluice/app" "$d/usr/local/bin" "$d/etc" "$d/home/sluice" "$d/tmp"
"$PY" -m pip install -q --disable-pip-version-check --no-warn-script-location --no-deps \
    --target "$d/opt/sluice/app" "$REPO" >"$WORK/pip-app.log" 2>&1 ||
  { tail_log "$WORK/pip-app.log"; die "pip install of the working tree failed"; }
rm -rf "$d/opt/sluice/app/bin"
"$PY" -m compileall -q -j 2 "$d/opt/sluice/app" >/dev/null || true
# Optional: a static launcher built by the executor's own script (docs/architecture.md, "The pod": the launcher must run in any image).
if [[ -x "$REPO/executor-sidecar/build-launcher.sh" ]]; then
  "$REPO/executor-sidecar/build-launcher.sh" "$d/usr/local/bin" >"$WORK/launcher.log" 2>&1 ||
    { tail_log "$WORK/launcher.log"; die "executor-sidecar/build-launcher.sh failed"; }
fi
printf '#!/bin/sh\nexec python3 -m sluice "$@"\n' >"$d/usr/local/bin/sluice"
chmod 755 "$d/usr/local/bin/sluice"
tar -xOf "$deb_layer" ./etc/passwd >"$d/etc/passwd"; echo 'sluice:x:1000:1000:sluice:/home/sluice:/usr/sbin/nologin' >>"$d/etc/passwd"
tar -xOf "$deb_layer" ./etc/group >"$d/etc/group"; echo 'sluice:x:1000:' >>"$d/etc/group"
chown 1000:1000 "$d/home/sluice"; chmod 1777 "$d/tmp"
chmod -R a+rX "$d/opt" "$d/usr"
mklayer "$d" "$WORK/sluice-app.tar"
mkimage --layer "$deb_layer" --layer "$deps_layer" --layer "$WORK/sluice-app.tar" \
  --name "$SLUICE_IMAGE" --user 1000:1000 --workdir /home/sluice --cmd '["sluice"]' \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env PYTHONPATH=/opt/sluice/app:/opt/sluice/site --env PYTHONDONTWRITEBYTECODE=1 --env HOME=/home/sluice

tar -C "$STORE" -cf "$IMG/images.tar.tmp" oci-layout index.json blobs
mv "$IMG/images.tar.tmp" "$IMG/images.tar"
rm -rf "$WORK"
log "images: $(wc -l <"$IMG/images.list") images, $(du -sh "$IMG/images.tar" | cut -f1) ($IMG/images.list)"
