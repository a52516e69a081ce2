#!/usr/bin/env bash
# Install the Debian packages pare and its tests drive for real (registry, engines, interop tools;
# g++ and make compile Node native addons such as the corpus's sqlite3, and pkgconf serves sdists such as
# mysqlclient against a build sysroot's .pc files: they compile, never ship).
# Idempotent: only missing packages are installed, and apt-get update runs only when needed.
set -euo pipefail

packages=(docker-registry skopeo buildah umoci mmdebstrap runc podman golang-go busybox-static qemu-user-static
          uidmap iproute2 ca-certificates python3-venv chromium docker.io binutils g++ make pkgconf
          gpgv debian-archive-keyring  # pare scan --debian-pending checks the archive's signatures
          bubblewrap libseccomp2)  # the build sandbox every install and build step runs in
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-system: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-system: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
