#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per round trip (callgrind, bench_rt_loop inclusive) for every
# single-thread configuration of bench_ring; for /batch32, instructions per
# buffer (bench_batch_loop inclusive, 32 buffers per iteration).
#   bench/callgrind.sh [path/to/bench_ring] [iters]
# Default: build/release/bench/bench_ring, 100000 round trips.
# BENCH_ARGS is passed to bench_ring, e.g. BENCH_ARGS=--regions.
set -euo pipefail
bin=${1:-build/release/bench/bench_ring}
iters=${2:-100000}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found" >&2; exit 1; }
printf '%-40s %s\n' "key" "instructions/round trip"
for fmt in split packed; do
	for shape in 1desc 3desc 3desc-indirect; do
		for ev in evidx noevidx; do
			for mode in "" /nonotify /batch32; do
				key="$fmt/$shape/$ev$mode"
				loop=bench_rt_loop
				[ "$mode" = /batch32 ] && loop=bench_batch_loop
				n=$(valgrind --tool=callgrind --toggle-collect=$loop \
					--callgrind-out-file=/dev/null "$bin" ${BENCH_ARGS:-} --only "$key" \
					--iters "$iters" 2>&1 | awk '/Collected/ { print $4 }')
				printf '%-40s %s\n' "$key" "$(awk -v n="$n" -v i="$iters" 'BEGIN { printf "%.1f", n / i }')"
			done
		done
	done
done
