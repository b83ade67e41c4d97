# The steps every build from Go modules into $SLUICE_CACHE_DIR shares (sourced by cluster/build-*.sh and
# benchmarks/build-anchors.sh): Go's settings, a lock per product (concurrent runs wait), the cache
# check, the build's log and timing, and the publish of a finished build by a rename (DIR/bin.tmp ->
# DIR/bin), so a killed build never leaves a half-filled cache. DIR/bin/.complete marks a finished one.
# Brings versions.sh and gomod.sh (retry, module_dir, module_copy, argo_fix_symlinks) with it.
# shellcheck shell=bash
LIB_BUILD_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LIB_BUILD_SRC/versions.sh"
. "$LIB_BUILD_SRC/gomod.sh"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0

# build_init NAME JOBS NICE: the name the log lines carry, and the defaults of `go build -p` (JOBS, else
# $SLUICE_BUILD_JOBS) and of the builds' niceness (NICE, else $SLUICE_BUILD_NICE). Go must be there.
build_init() {
  BUILD_NAME=$1
  JOBS=${SLUICE_BUILD_JOBS:-$2}
  NICE=${SLUICE_BUILD_NICE:-$3}
  command -v go >/dev/null || { echo "$BUILD_NAME: Go is required (go >= 1.25)" >&2; exit 1; }
}

log() { echo "[$BUILD_NAME $(date +%H:%M:%S)] $*" >&2; }

# build_lock FILE: hold FILE's lock (on descriptor 9) until build_unlock or the script's end; another
# build holding it is waited for, saying so. One lock at a time.
build_lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if ! flock -n 9; then log "another build holds $1; waiting"; flock 9; fi
}

build_unlock() { exec 9>&-; }

# build_needed DIR WHAT: true when DIR holds no finished build: DIR/bin.tmp is then empty and
# DIR/build.log (the caller's to append to) empty; false, saying so, when it is cached.
build_needed() {
  local dir=$1 what=$2
  if [[ -f "$dir/bin/.complete" ]]; then log "$what cached in $dir/bin"; return 1; fi
  BUILD_T0=$SECONDS
  rm -rf "$dir/bin.tmp" "$dir/build-time.txt"; mkdir -p "$dir/bin.tmp"
  : >"$dir/build.log"
  log "building $what (log: $dir/build.log)"
}

# build_failed DIR WHAT: the end of DIR/build.log, and exit 1.
build_failed() {
  tail -n 40 "$1/build.log" >&2
  log "$2 build FAILED"
  exit 1
}

# build_publish DIR WHAT [PATH...]: DIR/bin.tmp becomes DIR/bin, marked finished; the PATHs (work
# directories) are removed with the old DIR/bin. Logs the time taken, and the peak memory when the build
# ran under `/usr/bin/time -v -o DIR/build-time.txt`.
build_publish() {
  local dir=$1 what=$2 rss=""
  shift 2
  touch "$dir/bin.tmp/.complete"
  rm -rf "$dir/bin" "$@"
  mv "$dir/bin.tmp" "$dir/bin"
  [[ -f "$dir/build-time.txt" ]] && rss="; $(grep -E 'Maximum resident' "$dir/build-time.txt" | sed 's/^[[:space:]]*//')"
  log "$what built in $((SECONDS - BUILD_T0)) s$rss"
}
