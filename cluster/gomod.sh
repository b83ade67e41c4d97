# Helpers for builds from Go modules (sourced by cluster/lib-build.sh, so by every build from Go modules).
# shellcheck shell=bash
# retry CMD...: module downloads from the Go proxy can fail transiently.
retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    ((i < 3)) || return 1  # no wait after the last attempt
    echo "attempt $i of: $* failed; retrying" >&2; sleep $((i * 10))
  done
}
# module_dir MOD VER: download a module (cached by Go in ~/go/pkg/mod) and print its read-only source dir.
module_dir() {
  local dir
  dir=$(retry go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [[ -d "$dir" ]] || { echo "no source for $1@$2" >&2; return 1; }
  echo "$dir"
}
# module_copy MOD VER DEST: a writable copy of a module's source (the module cache is read-only).
module_copy() {
  local dir
  dir=$(module_dir "$1" "$2") || return 1
  rm -rf "$3"; cp -r "$dir" "$3"; chmod -R u+w "$3"
}
# argo_fix_symlinks SRC: the Argo Workflows module zip drops symlinks; signal_linux.go is a link to
# signal_darwin.go upstream, and without it packages that import osspecific do not build on Linux.
argo_fix_symlinks() {
  local os=$1/workflow/executor/osspecific
  [[ -f $os/signal_linux.go ]] || cp "$os/signal_darwin.go" "$os/signal_linux.go"
}
