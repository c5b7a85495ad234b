#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs the byte-order check (tests/endian/test_endian.c) on a big-endian
# host: built for s390x with Debian's cross compiler and run under
# qemu-user. Installs the cross tool chain if missing (as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v s390x-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-s390x-linux-gnu)
dpkg -s libc6-dev-s390x-cross >/dev/null 2>&1 || need+=(libc6-dev-s390x-cross)
command -v qemu-s390x >/dev/null 2>&1 || need+=(qemu-user)
if [[ ${#need[@]} -gt 0 ]]; then
	echo "== installing: ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${need[@]}"
fi

out=build/bigendian
mkdir -p "$out"
s390x-linux-gnu-gcc -std=c11 -O2 -static -Wall -Wextra -Werror -Iinclude -Ilib \
	tests/endian/test_endian.c lib/errors.c lib/ring/*.c -o "$out/test_endian"
qemu-s390x "$out/test_endian"
