#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The interop stage: libvirtio against real peers (the Linux kernel's drivers,
# QEMU's devices and qemu-storage-daemon, bare metal under QEMU).
#
#   tests/interop/run_all.sh [BUILD_DIR]
#
# BUILD_DIR is a configured and built host tree (default build/gcc). Every
# tests/interop/<name>/run.sh is run as `run.sh BUILD_DIR WORK_DIR`: it
# installs what it needs (as root, with apt-get) when missing, runs its
# cases, prints one line "PASS <case>" or "FAIL <case>: why" per case, and
# exits non-zero if any case failed. A peer that cannot be had is a failure,
# not a skip: these tests exist to meet the real peers.
#
# Ends with "interop: N passed, M failed" (scripts/test.sh adds it to the
# total).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build/gcc}
[[ $build = /* ]] || build="$root/$build"
if [[ ! -d $build ]]; then
	echo "run_all.sh: no build tree at $build (build the gcc preset first)" >&2
	echo "interop: 0 passed, 1 failed"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vio-interop.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
status=0
for script in "$here"/*/run.sh; do
	[[ -e $script ]] || continue
	name=$(basename "$(dirname "$script")")
	echo "== interop: $name"
	mkdir -p "$work/$name"
	start=$SECONDS
	log="$work/$name.log"
	bash "$script" "$build" "$work/$name" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS ' "$log" || true)
	f=$(grep -c '^FAIL ' "$log" || true)
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "FAIL $name: run.sh exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[[ $rc -eq 0 && $f -eq 0 ]] || status=1
	echo "== interop: $name took $((SECONDS - start)) s ($p passed, $f failed)"
done

echo "interop: $passed passed, $failed failed"
exit $status
