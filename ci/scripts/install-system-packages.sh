#!/usr/bin/env bash
# The Debian packages that local mode and the tests run for real: nginx and prometheus; shellcheck lints ci/scripts;
# chromium runs the dashboard's browser tests (through the playwright pip package, which downloads no browser).
set -euo pipefail
packages=(nginx-light prometheus unzip shellcheck chromium)
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v unzip >/dev/null || missing+=(unzip)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && { echo "system packages: ${packages[*]} present"; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
  echo "warning: missing system packages: ${missing[*]}" >&2
  echo "         install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start system services on install where an init system runs; local mode runs its own.
(service nginx stop; service prometheus stop) >/dev/null 2>&1 || true
echo "system packages installed: ${missing[*]}"
