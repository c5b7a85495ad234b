#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libvirtio's vhost-user front end against libvirtio's vhost-user back end,
# over a real Unix socket, memfd and eventfds: examples/vhost_user_blk_front
# runs its self-test (write a pattern, flush, read back, compare, restore)
# against examples/vhost_user_blk_backend serving an image file.
#
#   tests/interop/pair/run.sh BUILD_DIR WORK_DIR
#
# Not a foreign peer (tests/interop/qsd and tests/interop/linux are): this is
# the one place the front end meets a vhost-user back end that offers the
# packed ring (qemu-storage-daemon does not). Cases: split, packed, packed
# over two queues, split without indirect descriptors and event index. The
# image must be unchanged afterwards (the self-test restores what it wrote).
set -uo pipefail

build=${1:?usage: run.sh BUILD_DIR WORK_DIR}
work=${2:?usage: run.sh BUILD_DIR WORK_DIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
front="$build/examples/vhost_user_blk_front"
back="$build/examples/vhost_user_blk_backend"
failures=0
be_pid=""

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failures=$((failures + 1))
}
cleanup() {
	[[ -z $be_pid ]] || kill "$be_pid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

for p in "$front" "$back"; do
	if [[ ! -x $p ]]; then
		fail setup "$p not built (libvirtio-vhost-user needs Linux and VIO_VHOST_USER=ON)"
		exit 1
	fi
done

img="$work/disk.img"
sock="$work/pair.sock"
seq -f 'libvirtio pair line %08.0f' 0 262143 >"$img"
cp "$img" "$work/orig.img"
rm -f "$sock"
timeout 120 "$back" --socket "$sock" --image "$img" --queues 2 >"$work/backend.log" 2>&1 &
be_pid=$!
for _ in $(seq 100); do
	[[ -S $sock ]] && break
	sleep 0.05
done
if [[ ! -S $sock ]]; then
	fail setup "the back end did not create $sock: $(tail -n 3 "$work/backend.log")"
	exit 1
fi

# run_case NAME EXPECT_RING FRONT_OPTIONS...
run_case() {
	local name=$1 ring=$2
	shift 2
	local log="$work/$name.log"
	if ! timeout 30 "$front" --socket "$sock" "$@" --info --selftest 64 --flush >"$log" 2>&1; then
		fail "$name" "front end failed: $(tail -n 3 "$log" | tr '\n' ' ')"
		return
	fi
	if ! grep -q "^ring: $ring" "$log"; then
		fail "$name" "expected a $ring ring: $(grep '^ring:' "$log")"
		return
	fi
	if ! grep -q '^OK' "$log"; then
		fail "$name" "no OK line: $(tail -n 3 "$log" | tr '\n' ' ')"
		return
	fi
	grep -E '^(negotiated|ring|selftest)' "$log" | sed 's/^/   /'
	pass "$name"
}

run_case split split
run_case packed packed --packed
run_case packed-two-queues packed --packed --queues 2 --queue 1
run_case split-plain split --no-indirect --no-event-idx

kill "$be_pid" 2>/dev/null
wait "$be_pid" 2>/dev/null
be_pid=""
if cmp -s "$img" "$work/orig.img"; then
	pass image-restored
else
	fail image-restored "the image differs from the original after the self-tests"
fi
[[ $failures -eq 0 ]]
