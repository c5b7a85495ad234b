#!/bin/sh
# SPDX-License-Identifier: MIT
#
# /init of the Linux guest of tests/interop/linux (busybox sh, PID 1).
#
# Loads the virtio modules listed in /modules/order, finds the virtio-blk
# disk, runs the case named by vio_case= on the kernel command line, prints
# machine-readable lines on the serial console and powers off with
# `reboot -f` (QEMU runs with -no-reboot, so it exits):
#
#   VIO-INFO <key>=<value>          facts for the report (features, queues, ...)
#   VIO-WROTE <off> <len> <md5>     the guest wrote this; the host checks the image
#   VIO-PROGRESS <n> <uptime> restarted=0|1   restart case: one per iteration
#   VIO-RESULT <case> PASS|FAIL <detail>   exactly one, last
#
# Parameters (kernel command line, all sizes and offsets in bytes):
#   vio_case=read|write|mq|packed|restart|ro|rebind
#   vio_ring=split|packed     the ring the guest must have negotiated (bit 34)
#   vio_queues=N              the request queues the disk must have
#   vio_bytes=N               the disk's expected capacity
#   vio_rd=OFF:LEN:MD5,...    regions the host wrote before boot
#   vio_wr=OFF:LEN            where the guest writes (random data)
#   vio_tok=OFF               restart case: the host writes VIO-RESTARTED here
#                             once the back end is running again
#   vio_iter=N                restart case: iterations after the token is seen
#   vio_readers=N             restart case: background readers (default 3)

PATH=/bin
# The console may still hold a terminal escape: start markers on a fresh line.
echo
export PATH
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

CASE=unknown

finish() {
	# $1 PASS|FAIL, rest: detail
	r=$1
	shift
	echo "VIO-RESULT $CASE $r $*"
	# In a background writer (mq case) only report: the main shell decides.
	[ -n "${SUBSHELL:-}" ] && exit 1
	sync
	reboot -f
	sleep 5
	echo o >/proc/sysrq-trigger
}
fail() { finish FAIL "$@"; }

# Parse the kernel command line.
for arg in $(cat /proc/cmdline); do
	case $arg in
	vio_*=*)
		k=${arg%%=*}
		# shellcheck disable=SC2034 # read by the eval
		v=${arg#*=}
		eval "$k=\$v"
		;;
	esac
done
CASE=${vio_case:-unknown}
: "${vio_ring:=split}" "${vio_queues:=1}" "${vio_bytes:=0}" "${vio_rd:=}" "${vio_wr:=}"
: "${vio_tok:=0}" "${vio_iter:=5}" "${vio_readers:=3}"

for m in $(cat /modules/order); do
	insmod "/modules/$m.ko" || fail "insmod $m failed"
done

# find_disk: the virtio-blk device (virtio device ID 2) and its disk.
find_disk() {
	vdev=
	disk=
	n=0
	while [ $n -lt 200 ]; do
		for d in /sys/bus/virtio/devices/virtio*; do
			[ -e "$d/device" ] || continue
			[ "$(cat "$d/device")" = 0x0002 ] || continue
			for b in "$d"/block/*; do
				[ -e "$b" ] && vdev=$d && disk=${b##*/}
			done
		done
		[ -n "$disk" ] && [ -b "/dev/$disk" ] && break
		n=$((n + 1))
		usleep 100000
	done
	[ -n "$disk" ] || fail "no virtio-blk disk appeared within 20 s (virtio devices: $(ls /sys/bus/virtio/devices 2>/dev/null | tr '\n' ' '))"
	dev=/dev/$disk
}
find_disk

feat=$(cat "$vdev/features")
echo "VIO-INFO features=$feat"
echo "VIO-INFO disk=$disk size_sectors=$(cat /sys/block/$disk/size) lbs=$(cat /sys/block/$disk/queue/logical_block_size) write_cache=$(cat /sys/block/$disk/queue/write_cache | tr ' ' _) ro=$(cat /sys/block/$disk/ro)"
# Reading the serial sends a GET_ID request (an unsupported one reads empty).
echo "VIO-INFO serial='$(cat /sys/block/$disk/serial 2>&1)'"
nq=$(ls /sys/block/$disk/mq | wc -l)
echo "VIO-INFO queues=$nq"

# Feature bit N is character N+1 of the sysfs string.
bit() { echo "$feat" | cut -c$(($1 + 1)); }

[ "$(bit 32)" = 1 ] || fail "VERSION_1 (bit 32) not negotiated: $feat"
if [ "$vio_ring" = packed ]; then
	[ "$(bit 34)" = 1 ] || fail "packed ring requested but RING_PACKED (bit 34) not negotiated (QEMU fell back to split: the back end does not offer it): $feat"
else
	[ "$(bit 34)" = 0 ] || fail "split ring expected but RING_PACKED (bit 34) negotiated: $feat"
fi
[ "$nq" = "$vio_queues" ] || fail "disk has $nq queue(s) in /sys/block/$disk/mq, expected $vio_queues"
bytes=$(($(cat /sys/block/$disk/size) * 512))
[ "$bytes" = "$vio_bytes" ] || fail "capacity $bytes bytes, expected $vio_bytes"

# The disk is read and written with O_DIRECT through dd's 1 MiB buffer,
# which busybox page-aligns, with byte offsets and counts (large requests:
# many segments, indirect descriptors). With bs=512
# busybox's buffer is only 16-byte aligned; O_DIRECT then did not take
# effect and the guest read stale data from its page cache.
# dev_read OFF LEN: the disk's bytes on stdout.
dev_read() {
	dd if="$dev" bs=1048576 skip="$1" count="$2" iflag=direct,skip_bytes,count_bytes 2>/dev/null
}
# dev_write FILE OFF [CPU]: FILE onto the disk, then fsync (a FLUSH).
dev_write() {
	if [ -n "${3:-}" ]; then
		taskset -c "$3" dd if="$1" of="$dev" bs=1048576 seek="$2" oflag=direct,seek_bytes conv=fsync,notrunc
	else
		dd if="$1" of="$dev" bs=1048576 seek="$2" oflag=direct,seek_bytes conv=fsync,notrunc
	fi
}

# rd_md5 OFF LEN: md5 of the disk's bytes, read with O_DIRECT.
rd_md5() {
	dev_read "$1" "$2" | md5sum | cut -d' ' -f1
}

# check_host_regions: the data the host wrote before boot reads back.
check_host_regions() {
	[ -n "$vio_rd" ] || return 0
	for r in $(echo "$vio_rd" | tr , ' '); do
		off=${r%%:*}
		rest=${r#*:}
		len=${rest%%:*}
		want=${rest#*:}
		got=$(rd_md5 "$off" "$len")
		[ "$got" = "$want" ] || fail "host data at $off+$len reads back md5 $got, host wrote $want"
	done
	echo "VIO-INFO host-regions=ok"
}

# write_region OFF LEN [CPU]: write random data with O_DIRECT, flush,
# read it back with O_DIRECT, report it for the host's check.
write_region() {
	off=$1
	len=$2
	tag=$off
	head -c "$len" /dev/urandom >/tmp/w.$tag
	want=$(md5sum </tmp/w.$tag | cut -d' ' -f1)
	dev_write /tmp/w.$tag "$off" "${3:-}" 2>/tmp/dd.$tag || fail "write at $off+$len failed: $(tail -n 2 /tmp/dd.$tag | tr '\n' ' ')"
	if [ -n "${3:-}" ]; then
		got=$(taskset -c "$3" dd if="$dev" bs=1048576 skip="$off" count="$len" iflag=direct,skip_bytes,count_bytes 2>/dev/null | md5sum | cut -d' ' -f1)
	else
		got=$(rd_md5 "$off" "$len")
	fi
	[ "$got" = "$want" ] || fail "wrote md5 $want at $off+$len, reads back $got"
	rm -f /tmp/w.$tag /tmp/dd.$tag
	echo "VIO-WROTE $off $len $want"
}

flush_disk() {
	sync
	blockdev --flushbufs "$dev" || fail "blockdev --flushbufs $dev failed"
}

case $CASE in
read)
	check_host_regions
	echo 3 >/proc/sys/vm/drop_caches
	# A buffered read of the whole disk too (readahead: large requests).
	dd if="$dev" of=/dev/null bs=1M 2>/dev/null || fail "buffered read of the whole disk failed"
	check_host_regions
	finish PASS "host data read back; features=$feat"
	;;
write)
	check_host_regions
	[ -n "$vio_wr" ] || fail "no vio_wr= given"
	write_region "${vio_wr%%:*}" "${vio_wr#*:}"
	# A small write at an odd sector: one request with one data segment.
	write_region $((${vio_wr%%:*} + ${vio_wr#*:} + 3584)) 512
	flush_disk
	# DISCARD (bit 13), when negotiated: Linux's own request (one range),
	# must complete without an error; the data beside it must stay.
	if [ "$(bit 13)" = 1 ]; then
		o=$((${vio_wr%%:*} + ${vio_wr#*:} + 65536))
		blkdiscard -o $o -l 65536 "$dev" 2>/tmp/bd || fail "blkdiscard of $o+65536 failed: $(tr '\n' ' ' </tmp/bd)"
		echo "VIO-INFO discard=ok"
	fi
	finish PASS "guest writes read back and flushed; features=$feat"
	;;
mq)
	check_host_regions
	off=${vio_wr%%:*}
	len=${vio_wr#*:}
	half=$((len / 2))
	# One writer per CPU: blk-mq maps each CPU to its own hardware queue.
	(
		SUBSHELL=1
		write_region "$off" "$half" 0 >/tmp/mq.0
	) &
	(
		SUBSHELL=1
		write_region $((off + half)) "$half" 1 >/tmp/mq.1
	) &
	wait
	cat /tmp/mq.0 /tmp/mq.1
	grep -q VIO-RESULT /tmp/mq.0 /tmp/mq.1 && fail "a writer failed: $(cat /tmp/mq.0 /tmp/mq.1 | grep VIO-RESULT | tr '\n' ' ')"
	grep -q VIO-WROTE /tmp/mq.0 || fail "writer on CPU 0 reported nothing"
	grep -q VIO-WROTE /tmp/mq.1 || fail "writer on CPU 1 reported nothing"
	flush_disk
	# Each request queue has its own MSI-X vector ("virtio0-req.N" in
	# /proc/interrupts): every queue must have completed something.
	used=
	q=0
	while [ $q -lt "$nq" ]; do
		irqs=$(grep "${vdev##*/}-req\.$q\$" /proc/interrupts | awk '{ s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s }')
		used="$used req.$q=${irqs:-none}"
		[ "${irqs:-0}" -gt 0 ] || fail "request queue $q completed nothing (interrupts:$used)"
		q=$((q + 1))
	done
	echo "VIO-INFO interrupts=$(echo $used | tr ' ' ,)"
	finish PASS "$nq queues, each completed requests ($used ); features=$feat"
	;;
rebind)
	# Unbind and rebind the driver twice: each unload resets the device
	# (QEMU stops the rings: GET_VRING_BASE), each load starts it again on
	# the same connection at the positions the back end reported.
	check_host_regions
	# (rb_*: the helpers use off, len, want, r.)
	rb_off=${vio_wr%%:*}
	rb_len=${vio_wr#*:}
	rb=1
	while [ $rb -le 2 ]; do
		rb_at=$((rb_off + (rb - 1) * rb_len))
		write_region $rb_at "$rb_len"
		rb_want=$want
		flush_disk
		rmmod virtio_blk || fail "rmmod virtio_blk failed (round $rb)"
		insmod /modules/virtio_blk.ko || fail "insmod virtio_blk failed (round $rb)"
		find_disk
		check_host_regions
		got=$(rd_md5 $rb_at "$rb_len")
		[ "$got" = "$rb_want" ] || fail "after rebind $rb: data written before reads md5 $got, wrote $rb_want"
		echo "VIO-INFO rebind-$rb=ok"
		rb=$((rb + 1))
	done
	write_region $((rb_off + 2 * rb_len)) "$rb_len"
	flush_disk
	finish PASS "two driver unbind/rebind rounds: data before and I/O after each; features=$feat"
	;;
ro)
	# A read-only back end: VIRTIO_BLK_F_RO (bit 5), the disk is read-only
	# in the guest, reads work, a write is refused.
	[ "$(bit 5)" = 1 ] || fail "read-only back end but VIRTIO_BLK_F_RO (bit 5) not negotiated: $feat"
	[ "$(cat /sys/block/$disk/ro)" = 1 ] || fail "/sys/block/$disk/ro is not 1"
	check_host_regions
	off=${vio_wr%%:*}
	head -c 4096 /dev/urandom >/tmp/w
	if dev_write /tmp/w "$off" 2>/dev/null; then
		fail "a write to the read-only disk succeeded"
	fi
	finish PASS "read-only disk: host data reads back, writes refused; features=$feat"
	;;
packed)
	check_host_regions
	write_region "${vio_wr%%:*}" "${vio_wr#*:}"
	flush_disk
	echo 3 >/proc/sys/vm/drop_caches
	check_host_regions
	finish PASS "packed ring: host data read back, guest writes flushed; features=$feat"
	;;
restart)
	check_host_regions
	base=${vio_wr%%:*}
	chunk=65536
	slots=16
	# Readers in the background keep several requests in flight all the
	# time, so the kill finds some (and a back end that completes them out
	# of order has to recover each); they re-check the host's data on every
	# pass.
	bg=${vio_rd#*,}
	bg=${bg%%,*}
	bgoff=${bg%%:*}
	bglen=${bg#*:}
	bglen=${bglen%%:*}
	bgmd5=${bg##*:}
	rm -f /tmp/stop /tmp/bgdone.* /tmp/bgbad
	k=0
	while [ $k -lt "$vio_readers" ]; do
		(
			n=0
			while [ ! -e /tmp/stop ]; do
				got=$(rd_md5 "$bgoff" "$bglen")
				[ "$got" = "$bgmd5" ] || echo "reader $k pass $n: host data at $bgoff+$bglen reads md5 $got, expected $bgmd5" >>/tmp/bgbad
				n=$((n + 1))
			done
			echo $n >/tmp/bgdone.$k
		) &
		k=$((k + 1))
	done
	i=0
	seen=0
	while :; do
		i=$((i + 1))
		o=$((base + (i % slots) * chunk))
		head -c $chunk /dev/urandom >/tmp/c
		dev_write /tmp/c $o 2>/tmp/dd || fail "iteration $i: write at $o failed: $(tail -n 2 /tmp/dd | tr '\n' ' ')"
		dev_read $o $chunk >/tmp/r || fail "iteration $i: read at $o failed"
		cmp -s /tmp/c /tmp/r || fail "iteration $i: data at $o reads back wrong"
		tok=0
		dev_read "$vio_tok" 512 | grep -q VIO-RESTARTED && tok=1
		echo "VIO-PROGRESS $i $(cut -d' ' -f1 /proc/uptime) restarted=$tok"
		if [ $tok = 1 ]; then
			seen=$((seen + 1))
			[ $seen -ge "$vio_iter" ] && break
		fi
		[ $i -ge 2000 ] && fail "the host never marked the back end restarted ($i iterations)"
	done
	touch /tmp/stop
	n=0
	while [ "$(ls /tmp/bgdone.* 2>/dev/null | wc -l)" -lt "$vio_readers" ] && [ $n -lt 300 ]; do
		usleep 100000
		n=$((n + 1))
	done
	[ "$(ls /tmp/bgdone.* 2>/dev/null | wc -l)" -ge "$vio_readers" ] || fail "a background reader never finished (a request lost across the restart?); guest in-flight (reads writes): $(cat /sys/block/$disk/inflight)"
	[ -e /tmp/bgbad ] && fail "background reader: $(head -n 1 /tmp/bgbad)"
	echo "VIO-INFO iterations=$i after-restart=$seen background-reads=$(cat /tmp/bgdone.* | paste -sd+ -)"
	echo "VIO-WROTE $base $((slots * chunk)) $(rd_md5 "$base" $((slots * chunk)))"
	flush_disk
	check_host_regions
	finish PASS "$i write+read-verify iterations, $seen after the back end restarted; features=$feat"
	;;
*)
	fail "unknown case '$CASE'"
	;;
esac
