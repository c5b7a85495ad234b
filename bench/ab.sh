#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interleaved A/B timing of two whole commands: A B A B ..., N pairs, each
# run's wall time (date +%s.%N around it, start-up included); prints every
# pair, then the median of the pair ratios A/B with their min and max, and
# the load average before and after. Pairing keeps the ratio meaningful when the machine's speed
# drifts (a shared machine's does, by 2x or more).
#   bench/ab.sh N 'COMMAND A' 'COMMAND B'
# Example (bench/README.md, "Against Linux's ringtest"):
#   bench/ab.sh 9 'build/release/bench/bench_ring --regions --only packed/1desc/evidx/ringtest --iters 10000000 --reps 1' \
#                 "$R/ring --host-affinity 1 --guest-affinity 0 --run-cycles 10000000"
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: bench/ab.sh N 'COMMAND A' 'COMMAND B'" >&2; exit 2; }
n=$1 a=$2 b=$3

wall() { # the wall seconds of one run of "$1" (word-split, no shell)
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	$1 >/dev/null 2>&1 || { echo "ab.sh: failed: $1" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()
for ((i = 1; i <= n; i++)); do
	ta=$(wall "$a")
	tb=$(wall "$b")
	r=$(awk -v x="$ta" -v y="$tb" 'BEGIN { printf "%.3f", (y > 0 ? x / y : 0) }')
	printf 'pair %2d: A %7.3f s  B %7.3f s  A/B %s\n' "$i" "$ta" "$tb" "$r"
	ratios+=("$r")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${ratios[@]}" | sort -g | awk '
	{ v[NR] = $1 }
	END {
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "A/B wall time: median %.3f (min %.3f, max %.3f) over %d pairs\n", med, v[1], v[NR], NR
	}'
