#!/usr/bin/env bash
# Install the Debian 12 packages mmscope needs to build and test.
# As root: apt-get installs what is missing.  Otherwise: print the command.
set -euo pipefail
PKGS=(build-essential pkg-config libzydis-dev libdw-dev libelf-dev
      libcmocka-dev python3 python3-pytest fio gdb valgrind liburing-dev
      hyperfine clang-format tcpdump linux-perf sqlite3 python3-numpy gdbserver
      strace)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages; run as root:" >&2
	echo "  apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
