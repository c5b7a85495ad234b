#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build libvirtio (release preset) and run the loopback demo.
# On Debian 12, installs the missing build tools first (needs root).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# tool-or-package -> Debian package
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v ninja >/dev/null 2>&1 || need+=(ninja-build)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v doxygen >/dev/null 2>&1 || need+=(doxygen)
dpkg -s libcmocka-dev >/dev/null 2>&1 || need+=(libcmocka-dev)
dpkg -s libc6-dev >/dev/null 2>&1 || need+=(libc6-dev)

if [[ ${#need[@]} -gt 0 ]]; then
	echo "== installing: ${need[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "run as root (or install these packages first): ${need[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${need[@]}"
fi

echo "== configure and build (preset release)"
cmake --preset release
cmake --build --preset release --parallel 2

# The loopback driver/device pair (virtio-blk and virtio-rng over virtio-mmio)
# over both ring formats; the script fails if either run fails, and the last
# line is the second run's OK/FAIL verdict.
echo "== run build/release/examples/loopback --ring split"
./build/release/examples/loopback --ring split
echo
echo "== run build/release/examples/loopback --ring packed --queues 2"
./build/release/examples/loopback --ring packed --queues 2
