#!/usr/bin/env bash
# Makes the local Kubernetes control plane and the Argo parts ready, and reuses whatever is already there:
#   1. redis and Prometheus (Debian packages),
#   2. etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, the Argo Rollouts controller
#      and Argo CD, built from Go modules once per version pinned in tools/cluster-pins.env and cached under
#      ~/.cache/rollwright/cluster/<component>/v<version>/ with the manifests they need at run time.
# A cold build takes about 30 minutes on 2 cores; a second run takes seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=cluster-pins.env
. "$here/cluster-pins.env"
cache="${ROLLWRIGHT_CACHE:-$HOME/.cache/rollwright}"
tools="$cache/cluster"
scratch="$cache/cluster-build"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
elapsed() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}
started=$SECONDS
# A build's own output goes to its log; fd 3 keeps the terminal for progress lines.
exec 3>&1

# -- 1. Debian packages -------------------------------------------------------------------------------
[ -x /usr/bin/redis-server ] || apt_install "$REDIS_DEBIAN_PACKAGE"
say "redis: $(/usr/bin/redis-server --version)"
[ -x /usr/bin/prometheus ] || apt_install "$PROMETHEUS_DEBIAN_PACKAGE"
say "prometheus: $(/usr/bin/prometheus --version 2>&1 | head -n 1)"

# -- 2. Go components ---------------------------------------------------------------------------------
# Builds run at the lowest priority: other people's tests share these cores.
export GOTOOLCHAIN=local CGO_ENABLED=0
# -buildvcs=false: a cache inside someone's checkout must not stamp that checkout's commit into the binaries.
export GOFLAGS="-mod=mod -buildvcs=false"
if command -v go >/dev/null; then
  # Modules come from the Go module proxy only: without the "direct" fallback, a module the proxy lacks fails the
  # build instead of being fetched from its source host.
  GOPROXY=$(go env GOPROXY)
  GOPROXY=${GOPROXY%,direct}
  export GOPROXY=${GOPROXY%|direct}
fi

component='' build_start=0 peak_file=''

# Every go command goes through here; GNU time, where installed, records the largest process's peak memory.
gorun() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -a -o "$peak_file" -f '%M' nice -n 19 go "$@"
  else
    nice -n 19 go "$@"
  fi
}

phase() {
  printf '%s\n' "$*"
  printf '    %s: %s\n' "$component" "$*" >&3
}

# Copies `go build -v` output to the log and shows a line on the terminal every 100 packages.
progress() {
  local line n=0
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case $line in
      *' '* | '#'*) ;;
      *)
        n=$((n + 1))
        if [ $((n % 100)) -eq 0 ]; then
          printf '    %s: %d packages compiled (%s)\n' "$component" "$n" "$(elapsed $((SECONDS - build_start)))" >&3
        fi
        ;;
    esac
  done
}

compile() { gorun "$@" 2>&1 | progress; }

# A field of `go mod download -json MODULE@VERSION`: Dir is the module's source in the module cache, GoMod its go.mod.
module_field() {
  local value
  value=$(gorun mod download -json "$1" | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}\$/\1/p")
  [ -n "$value" ] || { echo "go mod download $1 gave no $2"; return 1; }
  printf '%s\n' "$value"
}

# A fresh copy of a module's source, for modules whose replace directives make `go install MODULE@VERSION` refuse.
module_copy() {
  local src copy="$scratch/$component-v$2"
  src=$(module_field "$1@v$2" Dir)
  rm -rf "$copy"
  cp -R "$src" "$copy"
  chmod -R u+w "$copy"
  printf '%s\n' "$copy"
}

# A module of our own that requires MODULE at VERSION and imports PACKAGES, so that `go mod tidy` resolves them.
wrapper_module() {
  local dir=$1 module=$2 version=$3 package
  shift 3
  rm -rf "$dir"
  mkdir -p "$dir"
  printf 'module rollwright.local/%s\n\ngo 1.24\n\nrequire %s %s\n' "$component" "$module" "$version" > "$dir/go.mod"
  {
    printf '//go:build tools\n\n// Package tools pins the modules whose commands are built from this module.\npackage tools\n\nimport (\n'
    for package in "$@"; do printf '\t_ "%s"\n' "$package"; done
    printf ')\n'
  } > "$dir/tools.go"
}

tidy() {
  phase "resolving modules through the Go module proxy"
  (cd "$1" && gorun mod tidy)
}

expect_version() {
  local want=$1 out
  shift
  out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out"
  case $out in
    *"$want"*) ;;
    *) echo "expected '$want' in the output of: $*"; return 1 ;;
  esac
}

# ensure NAME VERSION BUILDER PATH...: builds NAME once into its cache directory; PATHs (relative to it) must exist
# afterwards. A directory without .complete is a build that did not finish, and is built again.
ensure() {
  local name=$1 version=$2 builder=$3 dir path status peak=''
  shift 3
  dir="$tools/$name/v$version"
  if [ -f "$dir/.complete" ]; then
    for path in "$@"; do [ -e "$dir/$path" ] || rm -f "$dir/.complete"; done
  fi
  if [ -f "$dir/.complete" ]; then
    say "$name v$version: cached at $dir"
    return
  fi
  command -v go >/dev/null || die "$name v$version is missing and Go is not installed to build it"
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$scratch"
  component=$name build_start=$SECONDS peak_file="$dir/.peak-kb"
  say "$name v$version: building (first time only; log: $dir/build.log)"
  set +e
  (
    set -euo pipefail
    cd "$scratch"
    "$builder" "$dir" "$version"
    for path in "$@"; do [ -e "$dir/$path" ] || { echo "the build left no $dir/$path"; exit 1; }; done
  ) > "$dir/build.log" 2>&1 < /dev/null
  status=$?
  set -e
  [ $status -eq 0 ] || { printf 'error: %s v%s failed to build; see %s\n' "$name" "$version" "$dir/build.log" >&2; exit 1; }
  if [ -f "$peak_file" ]; then
    peak=$(awk '/^[0-9]+$/ && $1 > max { max = $1 } END { if (max) printf ", peak %.1f GB", max / 1048576 }' "$peak_file")
    rm -f "$peak_file"
  fi
  touch "$dir/.complete"
  say "$name v$version: built in $(elapsed $((SECONDS - build_start)))$peak" | tee -a "$dir/build.log"
}

build_etcd() {
  local dir=$1 version=$2 wrapper="$scratch/etcd-v$2"
  wrapper_module "$wrapper" go.etcd.io/etcd/server/v3 "v$version" go.etcd.io/etcd/server/v3
  tidy "$wrapper"
  phase "compiling"
  (cd "$wrapper" && compile build -v -trimpath -ldflags '-s -w' -o "$dir/bin/etcd" go.etcd.io/etcd/server/v3)
  expect_version "etcd Version: $version" "$dir/bin/etcd" --version
  rm -rf "$wrapper"
}

# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces them
# with ./staging, which only its own build sees. The wrapper replaces each one with the module published for the
# same release, v0.<minor>.<patch>, and serves all four commands; it is prepared once.
kubernetes_commands=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
kubernetes_wrapper="$scratch/kubernetes-v$KUBERNETES_VERSION"
prepare_kubernetes() {
  local version=$1 staging="v0.${1#*.}" gomod cmd packages=()
  [ -f "$kubernetes_wrapper/.ready" ] && return
  for cmd in "${kubernetes_commands[@]}"; do packages+=("k8s.io/kubernetes/cmd/$cmd"); done
  wrapper_module "$kubernetes_wrapper" k8s.io/kubernetes "v$version" "${packages[@]}"
  gomod=$(module_field "k8s.io/kubernetes@v$version" GoMod)
  sed -n "s#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 $staging#p" "$gomod" \
    >> "$kubernetes_wrapper/go.mod"
  grep -q '^replace k8s.io/api ' "$kubernetes_wrapper/go.mod" || { echo "no staging replaces found in $gomod"; return 1; }
  tidy "$kubernetes_wrapper"
  touch "$kubernetes_wrapper/.ready"
}
build_kubernetes() {
  local dir=$1 version=$2 minor=${2#*.} flags='-s -w' pkg
  minor=${minor%%.*}
  prepare_kubernetes "$version"
  # What `--version` and `kubectl version` report; Kubernetes' own build sets the same variables.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*} -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean"
  done
  phase "compiling"
  (cd "$kubernetes_wrapper" && compile build -v -trimpath -ldflags "$flags" -o "$dir/bin/$component" \
    "k8s.io/kubernetes/cmd/$component")
  if [ "$component" = kubectl ]; then
    expect_version "Client Version: v$version" "$dir/bin/kubectl" version --client
  else
    expect_version "Kubernetes v$version" "$dir/bin/$component" --version
  fi
}

build_kwok() {
  local dir=$1 version=$2 src
  phase "compiling"
  (export GOBIN="$dir/bin" && compile install -v -trimpath -ldflags '-s -w' "sigs.k8s.io/kwok/cmd/kwok@v$version")
  expect_version "$version" "$dir/bin/kwok" --version
  # The kwok binary has no built-in stages: the launcher hands it these (pod-ready, node-heartbeat, ...).
  src=$(module_field "sigs.k8s.io/kwok@v$version" Dir)
  cp -R "$src/kustomize/stage" "$dir/stage"
  chmod -R u+w "$dir/stage"
}

build_rollouts_controller() {
  local dir=$1 version=$2 copy
  copy=$(module_copy github.com/argoproj/argo-rollouts "$version")
  phase "compiling"
  (cd "$copy" && compile build -v -trimpath \
    -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=$version" \
    -o "$dir/bin/rollouts-controller" ./cmd/rollouts-controller)
  expect_version "v$version" "$dir/bin/rollouts-controller" --version
  cp -R "$copy/manifests/crds" "$dir/crds"
  rm -rf "$copy"
}

# One multicall binary: ARGOCD_BINARY_NAME (or argv[0]) picks argocd-server, argocd-repo-server, ... . The module's
# ui/dist/app holds only a placeholder, so the server serves an empty UI; its API is all Rollwright uses.
build_argocd() {
  local dir=$1 version=$2 copy kubectl
  copy=$(module_copy github.com/argoproj/argo-cd/v3 "$version")
  kubectl=$(cd "$copy" && gorun list -m k8s.io/client-go | awk '{ print $NF }')
  phase "compiling"
  (cd "$copy" && compile build -v -trimpath \
    -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=$version -X github.com/argoproj/argo-cd/v3/common.kubectlVersion=$kubectl" \
    -o "$dir/bin/argocd" ./cmd)
  expect_version "v$version" env ARGOCD_BINARY_NAME=argocd "$dir/bin/argocd" version --client
  cp -R "$copy/manifests/crds" "$dir/crds"
  rm -rf "$copy"
}

ensure etcd "$ETCD_VERSION" build_etcd bin/etcd
for cmd in "${kubernetes_commands[@]}"; do
  ensure "$cmd" "$KUBERNETES_VERSION" build_kubernetes "bin/$cmd"
done
rm -rf "$kubernetes_wrapper"
ensure kwok "$KWOK_VERSION" build_kwok bin/kwok stage
ensure rollouts-controller "$ARGO_ROLLOUTS_VERSION" build_rollouts_controller bin/rollouts-controller crds
ensure argocd "$ARGO_CD_VERSION" build_argocd bin/argocd crds
rmdir "$scratch" 2>/dev/null || true
say "cluster tools ready in $(elapsed $((SECONDS - started))) ($tools)"
