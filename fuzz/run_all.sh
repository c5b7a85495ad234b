#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run every libFuzzer harness of a build tree for a fixed time, two at a time.
#
#   fuzz/run_all.sh <builddir> [seconds-per-harness]      (default 30)
#
# Builds nothing: configure and build the `fuzz` preset first
# (cmake --preset fuzz && cmake --build --preset fuzz). Each harness
# <builddir>/fuzz/fuzz_<name> starts from a copy of fuzz/corpus/fuzz_<name>/
# (the checked-in corpus is never modified) and uses fuzz/fuzz_<name>.dict
# when present. Crash, leak and timeout reproducers are kept in
# <builddir>/fuzz/artifacts/fuzz_<name>/ (emptied at each run); the script exits non-zero if any
# harness failed and prints where the reproducers are. Set VIO_FUZZ_JOBS to
# change the parallelism and VIO_FUZZ_KEEP_CORPUS=1 to keep the grown corpora.
set -euo pipefail

usage() {
	echo "usage: $0 <builddir> [seconds-per-harness]" >&2
	exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=$(cd "$1" && pwd) || usage
seconds=${2:-30}
jobs=${VIO_FUZZ_JOBS:-2}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "seconds must be a positive integer" >&2; exit 2; }

harnesses=()
for bin in "$build_dir"/fuzz/fuzz_*; do
	[[ -f $bin && -x $bin ]] || continue
	case $bin in *_replay) continue ;; esac
	harnesses+=("$bin")
done
if [[ ${#harnesses[@]} -eq 0 ]]; then
	echo "no libFuzzer binaries in $build_dir/fuzz (configure with VIO_BUILD_FUZZ=ON and clang)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vio-fuzz.XXXXXX")
cleanup() {
	if [[ ${VIO_FUZZ_KEEP_CORPUS:-0} == 1 ]]; then
		echo "grown corpora kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# run_one <binary>: prints nothing on success; leaves <work>/<name>.status.
run_one() {
	local bin=$1 name
	name=$(basename "$bin")
	local corpus="$work/$name/corpus"
	local artifacts="$build_dir/fuzz/artifacts/$name"
	local log="$work/$name.log"
	rm -rf "$artifacts"
	mkdir -p "$corpus" "$artifacts"
	if [[ -d $src_dir/corpus/$name ]]; then
		cp -R "$src_dir/corpus/$name/." "$corpus/"
	fi
	local args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=25
		-artifact_prefix="$artifacts/")
	if [[ -f $src_dir/$name.dict ]]; then
		args+=(-dict="$src_dir/$name.dict")
	fi
	local rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
		"$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
	echo "$rc" >"$work/$name.status"
	local execs
	execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)
	if [[ $rc -eq 0 ]]; then
		echo "ok    $name: ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs"
	else
		echo "FAIL  $name: libFuzzer exit status $rc"
	fi
}

echo "fuzzing ${#harnesses[@]} harness(es) for ${seconds}s each, $jobs at a time"
running=0
for bin in "${harnesses[@]}"; do
	if [[ $running -ge $jobs ]]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_one "$bin" &
	running=$((running + 1))
done
wait || true

failed=0
for bin in "${harnesses[@]}"; do
	name=$(basename "$bin")
	status=$(cat "$work/$name.status" 2>/dev/null || echo missing)
	if [[ $status != 0 ]]; then
		failed=$((failed + 1))
		echo
		echo "=== $name failed (status $status); last lines of its log:"
		tail -n 40 "$work/$name.log" 2>/dev/null || true
		shopt -s nullglob
		for a in "$build_dir/fuzz/artifacts/$name"/{crash,leak,timeout,oom,slow-unit}-*; do
			echo "reproducer: $a"
			echo "  replay: $build_dir/fuzz/${name}_replay $a   (or: $bin $a)"
		done
		shopt -u nullglob
	fi
done

if [[ $failed -ne 0 ]]; then
	echo "fuzzing: $failed of ${#harnesses[@]} harness(es) failed"
	exit 1
fi
echo "fuzzing: all ${#harnesses[@]} harness(es) ran ${seconds}s without a failure"
