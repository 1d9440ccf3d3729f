#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with (scripts/packages.txt),
# and says which it installs, or that none was missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
mapfile -t packages < <(grep -v '^#' "$here/packages.txt" | grep -v '^$')
missing=()
for package in "${packages[@]}"; do
  # NodeSource's nodejs package bundles npm and conflicts with Debian's: an npm command will do.
  if [ "$package" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "   all ${#packages[@]} packages are installed"
  exit 0
fi
echo "   installing ${#missing[@]} of ${#packages[@]} packages with apt-get: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
