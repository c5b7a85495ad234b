#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libvirtio's vhost-user front end (driver side) against qemu-storage-daemon's
# vhost-user-blk export: examples/vhost_user_blk_front reads known content,
# writes, flushes and reads back; after the daemon stops, the image file must
# hold the writes.
#
#   tests/interop/qsd/run.sh BUILD_DIR WORK_DIR
#
# Cases: split ring with what the daemon negotiates (indirect, event index),
# split without them, a packed offer (the daemon has no packed ring: split
# must result), two queues (num-queues=2), a whole-disk read with large
# queues, and a reconnect after a clean stop (GET_VRING_BASE). Prints
# "PASS <case>" / "FAIL <case>: why"; exits non-zero on any failure.
set -uo pipefail

build=${1:?usage: run.sh BUILD_DIR WORK_DIR}
work=${2:?usage: run.sh BUILD_DIR WORK_DIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
front="$build/examples/vhost_user_blk_front"
failures=0

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failures=$((failures + 1))
}

if ! command -v qemu-storage-daemon >/dev/null 2>&1 || ! command -v qemu-img >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "qsd: installing qemu-system-common qemu-utils"
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			qemu-system-common qemu-utils >/dev/null 2>&1
	fi
fi
if ! command -v qemu-storage-daemon >/dev/null 2>&1; then
	fail setup "qemu-storage-daemon not found and could not be installed"
	exit 1
fi
if [[ ! -x $front ]]; then
	fail setup "$front not built (libvirtio-vhost-user needs Linux and VIO_VHOST_USER=ON)"
	exit 1
fi
echo "qsd: $(qemu-storage-daemon --version | head -n 1)"

img="$work/disk.img"
sock="$work/vhost-blk.sock"
qsd_pid=""

# A 16 MiB raw image of numbered 32-byte lines (known content), made once;
# each case starts from a fresh copy.
seq -f 'libvirtio interop line %08.0f' 0 524287 >"$work/orig.img"
make_image() { cp "$work/orig.img" "$img"; }

start_qsd() { # extra export options
	rm -f "$sock"
	timeout 60 qemu-storage-daemon \
		--blockdev "driver=file,node-name=file0,filename=$img" \
		--blockdev driver=raw,node-name=disk0,file=file0 \
		--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on$1" \
		>"$work/qsd.log" 2>&1 &
	qsd_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && return 0
		kill -0 "$qsd_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

stop_qsd() {
	if [[ -n $qsd_pid ]]; then
		kill "$qsd_pid" 2>/dev/null
		wait "$qsd_pid" 2>/dev/null
		qsd_pid=""
	fi
}
trap stop_qsd EXIT

run_front() { # log, args...
	local log=$1
	shift
	timeout 30 "$front" --socket "$sock" --timeout 5000 "$@" >"$log" 2>&1
}

# Sectors [first, first+count) of file $1 into $2.
sectors() { dd if="$1" of="$2" bs=512 skip="$3" count="$4" status=none; }

# ---- split ring as negotiated (indirect and event index), read, write, flush, read back ----
case_rw() { # name, front options..., daemon options in $qsd_opts
	local name=$1
	shift
	make_image
	if ! start_qsd "$qsd_opts"; then
		fail "$name" "qemu-storage-daemon did not start: $(tail -n 3 "$work/qsd.log")"
		stop_qsd
		return
	fi
	head -c 3000 /dev/urandom >"$work/w.bin"
	cp "$work/w.bin" "$work/w.bin.padded"
	truncate -s 3072 "$work/w.bin.padded"
	sectors "$work/orig.img" "$work/expect.bin" 5 4
	local log="$work/$name.log"
	if ! run_front "$log" "$@" --info --out "$work/r0.bin" --read 5 4 \
		--write 40 "$work/w.bin" --flush --out "$work/r1.bin" --read 40 6; then
		fail "$name" "vhost_user_blk_front failed: $(tail -n 3 "$log")"
		stop_qsd
		return
	fi
	stop_qsd
	grep '^negotiated:' "$log" | sed "s/^/qsd: $name: /"
	grep '^ring:' "$log" | sed "s/^/qsd: $name: /"
	if ! cmp -s "$work/r0.bin" "$work/expect.bin"; then
		fail "$name" "read of known content differs"
	elif ! cmp -s -n 3072 "$work/r1.bin" "$work/w.bin.padded"; then
		fail "$name" "read back after the write differs"
	elif ! sectors "$img" "$work/img40.bin" 40 6 || ! cmp -s -n 3072 "$work/img40.bin" "$work/w.bin.padded"; then
		fail "$name" "the image file does not hold the write (od: $(od -A d -t x1 -N 16 "$work/img40.bin" | head -n 1))"
	elif ! cmp -s -n 20480 "$img" "$work/orig.img"; then
		fail "$name" "sectors outside the write changed"
	elif ! grep -q '^queue 0 stopped at avail index 4$' "$log"; then
		# read, write, flush, read: GET_VRING_BASE must report 4 requests
		fail "$name" "GET_VRING_BASE: $(grep stopped "$log" || echo 'no stop reported')"
	else
		pass "$name"
	fi
}

qsd_opts=""
case_rw split_negotiated
if ! grep -q 'INDIRECT_DESC' "$work/split_negotiated.log" || ! grep -q 'EVENT_IDX' "$work/split_negotiated.log"; then
	fail split_negotiated_features "indirect and event index expected in: $(grep '^negotiated:' "$work/split_negotiated.log")"
else
	pass split_negotiated_features
fi

case_rw split_plain --no-indirect --no-event-idx
if grep '^negotiated:' "$work/split_plain.log" | grep -Eq 'INDIRECT_DESC|EVENT_IDX'; then
	fail split_plain_features "indirect or event index negotiated although refused"
else
	pass split_plain_features
fi

# The daemon does not offer VIRTIO_F_RING_PACKED: an offer must end in a split ring.
case_rw packed_offer_falls_back_to_split --packed
if ! grep -q '^ring: split' "$work/packed_offer_falls_back_to_split.log"; then
	fail packed_offer_ring "expected a split ring: $(grep '^ring:' "$work/packed_offer_falls_back_to_split.log")"
else
	pass packed_offer_ring
fi

# ---- two request queues: I/O on each, then the file ----
make_image
if start_qsd ",num-queues=2"; then
	log="$work/mq.log"
	if run_front "$log" --queues 2 --info --selftest 100 --queue 1 --write 60 "$work/w.bin" --flush; then
		stop_qsd
		if ! grep -q '^ring: split, queues set up: 2' "$log"; then
			fail multiqueue "two queues expected: $(grep '^ring:' "$log")"
		elif ! grep -q 'selftest: queue 1' "$log"; then
			fail multiqueue "queue 1 not exercised"
		elif ! sectors "$img" "$work/img60.bin" 60 6 || ! cmp -s -n 3072 "$work/img60.bin" "$work/w.bin.padded"; then
			fail multiqueue "the image file does not hold the write made on queue 1"
		elif ! cmp -s -n $((60 * 512)) "$img" "$work/orig.img" ||
			! cmp -s -i $((66 * 512)) "$img" "$work/orig.img"; then
			fail multiqueue "sectors outside the write changed (the self-test restores its own)"
		else
			pass multiqueue
		fi
	else
		fail multiqueue "vhost_user_blk_front failed: $(tail -n 3 "$log")"
	fi
	stop_qsd
else
	fail multiqueue "qemu-storage-daemon with num-queues=2 did not start: $(tail -n 3 "$work/qsd.log")"
	stop_qsd
fi

# ---- whole disk through 1024-entry queues; then a second connection to the same daemon ----
make_image
if start_qsd ""; then
	log="$work/whole.log"
	if ! run_front "$log" --queue-size 1024 --out "$work/whole.bin" --read 0 32768; then
		fail whole_disk_read "vhost_user_blk_front failed: $(tail -n 3 "$log")"
	elif ! cmp -s "$work/whole.bin" "$img"; then
		fail whole_disk_read "the 16 MiB read differs from the image"
	else
		pass whole_disk_read
	fi
	log="$work/reconnect.log"
	if ! run_front "$log" --selftest 300; then
		fail reconnect "second connection failed: $(tail -n 3 "$log")"
	else
		pass reconnect
	fi
	stop_qsd
else
	fail whole_disk_read "qemu-storage-daemon did not start"
	stop_qsd
fi

[[ $failures -eq 0 ]]
