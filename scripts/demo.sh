#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build libvirtio and the loopback demo (release preset) and run the demo.
# On Debian 12, installs the missing build tools first (needs root).
# `cmake --install build/release` afterwards installs the library.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# What the demo uses, and nothing more: CMake and Ninja (the presets' generator)
# to build, GCC (the release preset's compiler, with its LTO plug-in and
# gcc-ar) and the C library headers. Tests, documentation and the package
# files are not built here, so cmocka, clang, doxygen and pkg-config are not
# needed (scripts/test.sh installs those).
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v ninja >/dev/null 2>&1 || need+=(ninja-build)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
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

echo "== configure (preset release) and build the demo"
cmake --preset release
cmake --build --preset release --parallel 2 --target loopback

# The loopback driver/device pair (virtio-blk and virtio-rng) over virtio-mmio
# with both ring formats, then once over virtio-pci; the script fails if any
# run fails, and the last line is the pci run's OK/FAIL verdict.
echo "== run build/release/examples/loopback --ring split"
./build/release/examples/loopback --ring split
echo
echo "== run build/release/examples/loopback --ring packed --queues 2"
./build/release/examples/loopback --ring packed --queues 2
echo
echo "== run build/release/examples/loopback --transport pci --ring packed --queues 2 --blocks 256"
./build/release/examples/loopback --transport pci --ring packed --queues 2 --blocks 256
