#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Line and branch coverage of lib/ring by the test suite (clang source-based
# coverage). Use with the `coverage` preset:
#
#   cmake --preset coverage && cmake --build --preset coverage
#   scripts/coverage.sh build/coverage
#
# Runs ctest with LLVM_PROFILE_FILE=<builddir>/prof/%p-%m.profraw, merges the
# profiles into <builddir>/coverage.profdata and prints llvm-cov's per-file
# table and total for lib/ring, then the lines no test runs (per file, with
# their numbers; an inline function's instances summed). Also writes an HTML
# report to <builddir>/coverage-html/. Exits non-zero if a test fails.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 <builddir>" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)

find_tool() {
	local t
	for t in "$@"; do
		if command -v "$t" >/dev/null 2>&1; then
			command -v "$t"
			return 0
		fi
	done
	echo "none of $* found (apt-get install llvm-14)" >&2
	return 1
}
profdata=$(find_tool llvm-profdata-14 llvm-profdata)
llvm_cov=$(find_tool llvm-cov-14 llvm-cov)

if ! grep -q '^VIO_COVERAGE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "$build is not a coverage build (configure with: cmake --preset coverage)" >&2
	exit 2
fi

rm -rf "$build/prof" "$build/coverage.profdata" "$build/coverage-html"
mkdir -p "$build/prof"

echo "== ctest (profiles in $build/prof)"
LLVM_PROFILE_FILE="$build/prof/%p-%m.profraw" \
	ctest --test-dir "$build" --output-on-failure -j 2

shopt -s nullglob
raws=("$build"/prof/*.profraw)
shopt -u nullglob
if [[ ${#raws[@]} -eq 0 ]]; then
	echo "no profiles were written: is the build instrumented (clang, VIO_COVERAGE=ON)?" >&2
	exit 1
fi
"$profdata" merge -sparse -o "$build/coverage.profdata" "${raws[@]}"

# Every instrumented executable of the build (tests, examples, replayers):
# ELF files whose profile section is present.
objects=()
while IFS= read -r -d '' f; do
	if "$llvm_cov" report -instr-profile="$build/coverage.profdata" "$f" \
		>/dev/null 2>&1; then
		objects+=("$f")
	fi
done < <(find "$build" -type f -perm -u+x ! -name '*.so*' ! -path '*/CMakeFiles/*' \
	! -path '*/pkgtest/*' -print0 | sort -z)
if [[ ${#objects[@]} -eq 0 ]]; then
	echo "no instrumented executables found in $build" >&2
	exit 1
fi
obj_args=("${objects[0]}")
for o in "${objects[@]:1}"; do
	obj_args+=(-object "$o")
done

# Only the ring sources: lib/ring/*.c and its private headers.
sources=("$root"/lib/ring/*.c "$root"/lib/ring/*.h)
existing=()
for s in "${sources[@]}"; do
	[[ -f $s ]] && existing+=("$s")
done
if [[ ${#existing[@]} -eq 0 ]]; then
	echo "no lib/ring sources" >&2
	exit 1
fi

echo
echo "== coverage of lib/ring (${#objects[@]} instrumented programs)"
"$llvm_cov" report -instr-profile="$build/coverage.profdata" -show-branch-summary \
	"${obj_args[@]}" "${existing[@]}"
# llvm-cov's Lines column for a header counts a static inline function
# once per translation unit that includes it and keeps the best instance's
# covered count but the largest instance's line count: an instance never
# called (its body one region, comments and blank lines included) makes
# covered lines look missed. The lcov export's per-line counts are summed
# over the instances: the lines no test runs in any of them.
echo
echo "== lines of lib/ring no test runs (any instance of an inline function)"
"$llvm_cov" export -format=lcov -instr-profile="$build/coverage.profdata" \
	"${obj_args[@]}" "${existing[@]}" |
	awk -F'[:,]' '
		/^SF:/ { f = $2; sub(/.*\//, "", f) }
		/^DA:/ { n[f]++; all++; if ($3 == 0) { z[f]++; none++; at[f] = at[f] " " $2 } }
		END {
			for (f in n)
				printf "%-16s %4d of %4d  %6.2f%% run %s\n", f, z[f], n[f],
					100 * (n[f] - z[f]) / n[f], at[f]
			printf "%-16s %4d of %4d  %6.2f%% run\n", "TOTAL", none, all, 100 * (all - none) / all
		}' | LC_ALL=C sort | awk '/^TOTAL/ { t = $0; next } { print } END { print t }'
"$llvm_cov" show -format=html -output-dir="$build/coverage-html" \
	-instr-profile="$build/coverage.profdata" -show-branches=count \
	"${obj_args[@]}" "${existing[@]}" >/dev/null
echo
echo "HTML report: $build/coverage-html/index.html"
