#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per round trip (callgrind, ringtest_rt_loop inclusive) of
# Linux's validation-free ring models, driven through bench_ring's
# single-thread round trip (bench/ringtest/ringtest_rt.c): add, kick decision, take
# and complete, interrupt decision, reap, re-arm the interrupt.
#   bench/ringtest_rt.sh RINGTEST_DIR [iters]
# RINGTEST_DIR is tools/virtio/ringtest of a Linux source tree (see
# bench/README.md, "Against Linux's ringtest"). The models are compiled as
# below into a scratch directory (DWARF 4 for valgrind 3.19); nothing of
# them is kept or linked into libvirtio.
set -euo pipefail
dir=${1:?usage: bench/ringtest_rt.sh RINGTEST_DIR [iters]}
iters=${2:-100000}
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "ringtest_rt.sh: valgrind not found" >&2; exit 1; }
[ -f "$dir/virtio_ring_0_9.c" ] || { echo "ringtest_rt.sh: no virtio_ring_0_9.c in $dir" >&2; exit 1; }
cc=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Two builds of each model: LTO, as their Makefile builds it, where every
# step is inlined into the loop; and separate compilation (-O2, no LTO),
# where each step is a call, as each of libvirtio's steps is a call into
# the library.
count() { # binary -> instructions per round trip
	"$1" 1000 >/dev/null # the loop completes and checks its results
	valgrind --tool=callgrind --toggle-collect=ringtest_rt_loop \
		--callgrind-out-file=/dev/null "$1" "$iters" 2>&1 |
		awk -v i="$iters" '/Collected/ { printf "%.1f", $4 / i }'
}
printf '%-20s %-12s %s\n' "model" "LTO" "separate (calls)"
for model in virtio_ring_0_9 ring; do
	"$cc" -O2 -gdwarf-4 -flto -I"$dir" -o "$tmp/$model-lto" "$here/ringtest/ringtest_rt.c" "$dir/$model.c"
	"$cc" -O2 -gdwarf-4 -I"$dir" -o "$tmp/$model-sep" "$here/ringtest/ringtest_rt.c" "$dir/$model.c"
	printf '%-20s %-12s %s\n' "$model" "$(count "$tmp/$model-lto")" "$(count "$tmp/$model-sep")"
done
