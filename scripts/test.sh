#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The full check, as CI runs it (Debian 12, as root). Installs missing tools,
# then runs, stopping at the first failure:
#   workflows gcc, clang (Debug), gcc-o2, clang-o2 (-O2), asan, tsan, shared
#                                               (configure + build + ctest)
#   interop: tests/interop/run_all.sh          (real peers; over build/gcc)
#   the byte-order check on a big-endian host   (s390x under qemu-user)
#   fuzz preset build + fuzz/run_all.sh        (VIO_FUZZ_SECONDS per harness, default 30)
#   coverage preset build + scripts/coverage.sh
# and ends with one line "N passed, 0 failed" summed over the ctest runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

fuzz_seconds=${VIO_FUZZ_SECONDS:-30}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-2}

# ---------------------------------------------------------------------------
# Tools, each for a step below:
#   cmake, ninja-build        every workflow (CPack for the package_deb test)
#   gcc, g++, clang           the gcc*/clang* presets; g++ for the C++ header
#                             check; both C compilers for the cross-compiler
#                             package tests
#   libc6-dev, linux-libc-dev C library and Linux UAPI headers (vio_linux_coexist)
#   libcmocka-dev             the unit tests
#   pkg-config                cmocka lookup, package_pkg_config tests
#   doxygen                   docs_doxygen test
#   clang-format              format_check test
#   libclang-rt-14-dev        asan, tsan and fuzz presets (sanitizer, libFuzzer runtimes)
#   llvm-14                   scripts/coverage.sh (llvm-profdata, llvm-cov)
#   dpkg (dpkg-deb)           package_deb test (always there on Debian)
# scripts/bigendian.sh installs its own cross tool chain and qemu-user.
# ---------------------------------------------------------------------------
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
have_cmd cmake || need+=(cmake)
have_cmd ninja || need+=(ninja-build)
have_cmd gcc || need+=(gcc)
have_cmd g++ || need+=(g++)
have_cmd clang || need+=(clang)
have_cmd pkg-config || need+=(pkg-config)
have_cmd doxygen || need+=(doxygen)
have_cmd clang-format || have_cmd clang-format-14 || need+=(clang-format)
{ have_cmd llvm-profdata-14 && have_cmd llvm-cov-14; } || need+=(llvm-14)
have_pkg libcmocka-dev || need+=(libcmocka-dev)
have_pkg libclang-rt-14-dev || need+=(libclang-rt-14-dev)
have_pkg linux-libc-dev || need+=(linux-libc-dev)
have_pkg libc6-dev || need+=(libc6-dev)
have_cmd dpkg-deb || need+=(dpkg)

if [[ ${#need[@]} -gt 0 ]]; then
	echo "== installing: ${need[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "test.sh: run as root (or install these packages first): ${need[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${need[@]}"
fi

# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------
logdir=$(mktemp -d "${TMPDIR:-/tmp}/vio-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT
total_passed=0
total_failed=0
step_no=0

# count_ctest <log>: add the "X% tests passed, Y tests failed out of Z" lines.
count_ctest() {
	local line failed total
	while IFS= read -r line; do
		if [[ $line =~ tests\ passed,\ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
			failed=${BASH_REMATCH[1]}
			total=${BASH_REMATCH[2]}
			total_passed=$((total_passed + total - failed))
			total_failed=$((total_failed + failed))
		elif [[ $line =~ ^interop:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			total_passed=$((total_passed + BASH_REMATCH[1]))
			total_failed=$((total_failed + BASH_REMATCH[2]))
		fi
	done <"$1"
}

# step <name> <command...>: run, echo the output, stop on failure.
step() {
	local name=$1
	shift
	step_no=$((step_no + 1))
	local log="$logdir/$step_no.log"
	echo
	echo "=================================================================="
	echo "== [$step_no] $name"
	echo "=================================================================="
	local rc=0
	"$@" 2>&1 | tee "$log" || rc=$?
	count_ctest "$log"
	if [[ $rc -ne 0 ]]; then
		echo
		echo "test.sh: FAILED at step [$step_no] '$name' (exit status $rc); output above." >&2
		echo "$total_passed passed, $((total_failed > 0 ? total_failed : 1)) failed"
		exit 1
	fi
}

for preset in gcc clang gcc-o2 clang-o2 asan tsan shared; do
	step "workflow $preset" cmake --workflow --preset "$preset" --fresh
done

step "interop: real peers (Linux guest, QEMU, qemu-storage-daemon, bare metal)" \
	"$root/tests/interop/run_all.sh" build/gcc

step "big-endian: byte-order check on s390x (qemu-user)" "$root/scripts/bigendian.sh"

step "fuzz: configure" cmake --preset fuzz --fresh
step "fuzz: build" cmake --build --preset fuzz
step "fuzz: run each harness ${fuzz_seconds}s" "$root/fuzz/run_all.sh" build/fuzz "$fuzz_seconds"

step "coverage: configure" cmake --preset coverage --fresh
step "coverage: build" cmake --build --preset coverage
step "coverage: ctest + report" "$root/scripts/coverage.sh" build/coverage

echo
echo "All steps passed."
echo "$total_passed passed, $total_failed failed"
