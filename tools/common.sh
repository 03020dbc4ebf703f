# shellcheck shell=bash
# What the tools scripts share: how they speak, how they fail, how they install a Debian package.
say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_updated=0
apt_install() {
  local package=$1
  if ! command -v apt-get >/dev/null; then
    die "$package is missing and apt-get is not available: install the Debian package '$package'"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    die "$package is missing: run 'sudo apt-get install $package'"
  fi
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "installing $package (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}
