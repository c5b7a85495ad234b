#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Interop: the Linux kernel's own virtio_blk driver (Debian 12's kernel, in a
# QEMU x86_64 TCG guest) drives a vhost-user-blk back end.
#
#   tests/interop/linux/run.sh BUILD_DIR WORK_DIR
#
# The back end under test is BUILD_DIR/examples/vhost_user_blk_backend.
# VIO_INTEROP_BACKEND=qsd puts qemu-storage-daemon in its place: the same
# cases against a known-good back end tell a kit bug from a back-end bug
# (qsd offers no packed ring, so linux-blk-packed fails with it by design).
#
# Other knobs (environment):
#   VIO_LINUX_CASES    cases to run (default: "read write mq packed ro rebind
#                      rebind-packed restart restart-packed")
#   VIO_LINUX_TIMEOUT  seconds per boot (default 75; the restart cases get twice)
#   VIO_LINUX_STALL    restart cases: seconds without guest progress after the
#                      restart that make a failure (default 20)
#   VIO_INTEROP_CACHE  where the kernel package and the built guest kit are
#                      kept (default WORK_DIR/cache); point it at a lasting
#                      directory to skip the download on the next run
#   VIO_LINUX_KEEP=1   keep the per-case logs (serial, back end) in WORK_DIR
#
# Every case is one QEMU boot. The guest's /init (guest-init.sh) prints
# "VIO-RESULT <case> PASS|FAIL <detail>" on the serial console; the host
# also checks the image after QEMU exits. No marker, a timeout, a panic or a
# back end that dies is a FAIL. docs/interop.md says how to run one case by
# hand.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ne 2 ]]; then
	echo "usage: $0 BUILD_DIR WORK_DIR" >&2
	exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || build=$1
mkdir -p "$2" || exit 1
work=$(cd "$2" && pwd)
backend=${VIO_INTEROP_BACKEND:-ours}
cases=${VIO_LINUX_CASES:-read write mq packed ro rebind rebind-packed restart restart-packed}
boot_timeout=${VIO_LINUX_TIMEOUT:-75}
cache=${VIO_INTEROP_CACHE:-$work/cache}
mkdir -p "$cache"

declare -A case_name=(
	[read]=linux-blk-read-host-data
	[write]=linux-blk-write-flush
	[mq]=linux-blk-two-queues
	[packed]=linux-blk-packed-ring
	[restart]=linux-blk-backend-restart
	[restart-packed]=linux-blk-backend-restart-packed
	[ro]=linux-blk-read-only
	[rebind]=linux-blk-driver-rebind
	[rebind-packed]=linux-blk-driver-rebind-packed
)

failures=0
pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failures=$((failures + 1))
}
fail_all() {
	local c
	for c in $cases; do fail "${case_name[$c]:-linux-$c}" "$1"; done
	exit 1
}
note() { echo "  $*"; }

# --- processes we start: killed on any exit ------------------------------
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		# timeout(1) leads its own process group: QEMU goes with it.
		kill -9 -- "-$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- packages --------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need gzip gzip
need modinfo kmod
need xz xz-utils
need md5sum coreutils
need timeout coreutils
[[ $backend = qsd ]] && need qemu-storage-daemon qemu-system-common
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		fail_all "missing packages (${missing[*]}) and not root to install them"
	fi
	echo "  installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1
	apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
		"${missing[@]}" >"$work/apt.log" 2>&1 ||
		fail_all "apt-get install ${missing[*]} failed: $(tail -n 3 "$work/apt.log" | tr '\n' ' ')"
fi

# --- the guest kit: Debian's kernel, its virtio modules, busybox, /init -----
# The real kernel package that linux-image-amd64 depends on.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
if [[ -z $kpkg ]]; then
	apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
fi
[[ -n $kpkg ]] || fail_all "apt-cache knows no linux-image-amd64 dependency (no Debian kernel)"

kroot=$cache/$kpkg/root
if [[ ! -d $kroot/lib/modules ]]; then
	rm -rf "${cache:?}/$kpkg"
	mkdir -p "$cache/$kpkg/deb"
	(cd "$cache/$kpkg/deb" && apt-get -o APT::Sandbox::User=root download "$kpkg") \
		>"$cache/$kpkg/download.log" 2>&1 ||
		fail_all "apt-get download $kpkg failed: $(tail -n 2 "$cache/$kpkg/download.log" | tr '\n' ' ')"
	# Only the kernel and the module directories virtio_blk and virtio_pci
	# (and their dependencies) live in: the whole package is ~400 MB.
	mkdir -p "$kroot.tmp"
	if ! dpkg-deb --fsys-tarfile "$cache/$kpkg"/deb/*.deb |
		tar -x -C "$kroot.tmp" --wildcards './boot/*' \
			'./lib/modules/*/kernel/drivers/virtio/*' \
			'./lib/modules/*/kernel/drivers/block/*' ||
		! mv "$kroot.tmp" "$kroot"; then
		fail_all "unpacking $kpkg failed"
	fi
	rm -rf "$cache/$kpkg/deb"
fi
kver=$(ls "$kroot/lib/modules" | head -n 1)
vmlinuz=$kroot/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || fail_all "$kpkg has no /boot/vmlinuz-$kver"
# Boot the uncompressed ELF through its PVH entry when the kernel has one:
# decompressing the bzImage under TCG costs ~7 s a boot. The payload is the
# xz stream inside the bzImage (Debian: CONFIG_KERNEL_XZ).
kernel=$vmlinuz
if grep -q '^CONFIG_PVH=y' "$kroot/boot/config-$kver" 2>/dev/null; then
	if [[ ! -s $cache/$kpkg/vmlinux ]]; then
		xoff=$(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
		if [[ -n $xoff ]]; then
			tail -c +$((xoff + 1)) "$vmlinuz" | xz -dcq --single-stream >"$cache/$kpkg/vmlinux.tmp" 2>/dev/null
			[[ $(head -c 4 "$cache/$kpkg/vmlinux.tmp" 2>/dev/null) = $'\x7fELF' ]] &&
				mv "$cache/$kpkg/vmlinux.tmp" "$cache/$kpkg/vmlinux"
			rm -f "$cache/$kpkg/vmlinux.tmp"
		fi
	fi
	[[ -s $cache/$kpkg/vmlinux ]] && kernel=$cache/$kpkg/vmlinux
fi
# qboot (Debian's qemu-system-data) starts the guest faster than SeaBIOS.
bios=()
[[ -f /usr/share/qemu/qboot.rom ]] && bios=(-bios /usr/share/qemu/qboot.rom)

# Module name -> file, then the load order of virtio_pci and virtio_blk
# with their dependencies (modinfo's depends= of this very kernel).
declare -A modfile=()
while IFS= read -r f; do
	b=${f##*/}
	b=${b%%.ko*}
	modfile[${b//-/_}]=$f
done < <(find "$kroot/lib/modules/$kver" -name '*.ko*')
declare -A seen=()
order=()
visit() {
	local m=$1 d deps
	[[ -n ${seen[$m]:-} ]] && return 0
	seen[$m]=1
	[[ -n ${modfile[$m]:-} ]] || {
		echo "module $m not in $kpkg's drivers/virtio or drivers/block (built in, or elsewhere: extend the unpacked paths)" >&2
		return 1
	}
	deps=$(modinfo -F depends "${modfile[$m]}" 2>/dev/null) || return 1
	for d in ${deps//,/ }; do visit "$d" || return 1; done
	order+=("$m")
}
for m in virtio_pci virtio_blk; do
	visit "$m" 2>"$work/modules.err" ||
		fail_all "cannot resolve the modules of $m: $(cat "$work/modules.err")"
done

key=$( (
	echo "$kpkg ${order[*]}"
	cat "$here/guest-init.sh"
	md5sum </bin/busybox
) | md5sum | cut -c1-16)
kit=$cache/kit-$key
if [[ ! -f $kit/initrd.gz ]]; then
	rm -rf "$kit" "$kit.tmp"
	r=$kit.tmp/root
	mkdir -p "$r/bin" "$r/modules" "$r/dev" "$r/proc" "$r/sys" "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	cp "$here/guest-init.sh" "$r/init"
	chmod 755 "$r/init"
	for m in "${order[@]}"; do
		f=${modfile[$m]}
		case $f in
		*.ko.xz) xz -dc "$f" >"$r/modules/$m.ko" ;;
		*.ko.zst) zstd -dcq "$f" >"$r/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$f" >"$r/modules/$m.ko" ;;
		*) cp "$f" "$r/modules/$m.ko" ;;
		esac || fail_all "cannot unpack module $f"
		echo "$m" >>"$r/modules/order"
	done
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$kit.tmp/initrd.gz" ||
		fail_all "building the initramfs failed"
	rm -rf "$r"
	mv "$kit.tmp" "$kit"
fi
initrd=$kit/initrd.gz

qemu_version=$(qemu-system-x86_64 --version | head -n 1)
echo "  guest: $kpkg (kernel $kver), modules: ${order[*]}"
echo "  boot: ${kernel##*/}${bios:+ with ${bios[1]##*/}}"
echo "  $qemu_version"

# --- the back end under test -----------------------------------------------
case $backend in
ours)
	backend_bin=$build/examples/vhost_user_blk_backend
	echo "  back end: $backend_bin"
	[[ -x $backend_bin ]] ||
		fail_all "no back end: $backend_bin is not built (build target vhost_user_blk_backend)"
	;;
qsd)
	echo "  back end: $(qemu-storage-daemon --version | head -n 1) (VIO_INTEROP_BACKEND=qsd)"
	;;
*)
	fail_all "VIO_INTEROP_BACKEND=$backend: expected 'ours' or 'qsd'"
	;;
esac

backend_pid=
# start_backend SOCK IMG QUEUES LOG [ro]: starts it, waits for its socket.
start_backend() {
	local sock=$1 img=$2 q=$3 log=$4 ro=${5:-} n ronly=() writable=on
	[[ $ro = ro ]] && ronly=(--read-only) && writable=off
	rm -f "$sock"
	case $backend in
	ours)
		"$backend_bin" --socket "$sock" --image "$img" "${ronly[@]}" --queues "$q" >>"$log" 2>&1 &
		;;
	qsd)
		qemu-storage-daemon \
			--blockdev "driver=file,node-name=file0,filename=$img" \
			--blockdev driver=raw,node-name=disk0,file=file0 \
			--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=$writable,num-queues=$q" \
			>>"$log" 2>&1 &
		;;
	esac
	backend_pid=$!
	pids+=("$backend_pid")
	for ((n = 0; n < 100; n++)); do
		[[ -S $sock ]] && return 0
		kill -0 "$backend_pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# --- images ------------------------------------------------------------------
disk_bytes=$((64 << 20))
# Regions the host fills with random data before boot: OFF:LEN. Aligned and
# odd-sector ones, one at the very end of the disk.
host_regions="0:65536 1060864:1048576 41946624:1536 $((disk_bytes - 8192)):8192"
wr_region=8388608:2097152  # where the guest writes (write, mq, packed, rebind)
restart_base=16777216      # restart case: 16 slots of 64 KiB from here
restart_tok=62914560       # restart case: the host's "back end restarted" mark

md5_at() { # IMG OFF LEN (multiples of 512)
	dd if="$1" bs=512 skip=$(($2 / 512)) count=$(($3 / 512)) 2>/dev/null |
		md5sum | cut -d' ' -f1
}

# prepare_image IMG: sets vio_rd to "OFF:LEN:MD5,..."
prepare_image() {
	local img=$1 r off len
	rm -f "$img"
	truncate -s "$disk_bytes" "$img"
	vio_rd=
	for r in $host_regions; do
		off=${r%%:*}
		len=${r#*:}
		dd if=/dev/urandom of="$img" bs=512 seek=$((off / 512)) count=$((len / 512)) \
			conv=notrunc 2>/dev/null
		vio_rd+="${vio_rd:+,}$off:$len:$(md5_at "$img" "$off" "$len")"
	done
}

# Feature bits by name, for the report (virtio 1.4 §6 reserved bits, §5.2.3).
declare -A fname=(
	[1]=SIZE_MAX [2]=SEG_MAX [4]=GEOMETRY [5]=RO [6]=BLK_SIZE [9]=FLUSH
	[10]=TOPOLOGY [11]=CONFIG_WCE [12]=MQ [13]=DISCARD [14]=WRITE_ZEROES
	[15]=LIFETIME [16]=SECURE_ERASE [17]=ZONED [24]=NOTIFY_ON_EMPTY
	[27]=ANY_LAYOUT [28]=INDIRECT_DESC [29]=EVENT_IDX [32]=VERSION_1
	[33]=ACCESS_PLATFORM [34]=RING_PACKED [35]=IN_ORDER [36]=ORDER_PLATFORM
	[37]=SR_IOV [38]=NOTIFICATION_DATA [39]=NOTIF_CONFIG_DATA [40]=RING_RESET
)
decode_features() {
	local s=$1 i out=
	for ((i = 0; i < ${#s}; i++)); do
		[[ ${s:i:1} = 1 ]] && out+="${out:+ }${fname[$i]:-bit$i}"
	done
	echo "$out"
}

# excerpt FILE: the last lines of a log, indented, for a failure's context.
excerpt() {
	[[ -s $1 ]] || return 0
	echo "  --- ${1##*/} (last lines)"
	tail -n "${2:-15}" "$1" | tr -d '\r' | sed 's/^/  | /'
}

# --- one case ----------------------------------------------------------------
run_case() {
	local c=$1 name=${case_name[$1]} dir=$work/$1 queues=1 ring=split smp=1 tmo=$boot_timeout
	local sock img serial blog qlog devopt chropt start qpid why='' result line n
	rm -rf "$dir"
	mkdir -p "$dir"
	sock=$dir/vhost.sock
	img=$dir/disk.img
	serial=$dir/serial.log
	blog=$dir/backend.log
	qlog=$dir/qemu.log
	local ro='' gc=$c # gc: the guest's case
	if [[ $c = *-packed ]]; then
		gc=${c%-packed}
		ring=packed
	fi
	case $gc in
	ro) ro=ro ;;
	mq) queues=2 smp=2 ;;
	packed) ring=packed ;;
	restart) tmo=$((boot_timeout * 2)) ;;
	esac
	prepare_image "$img"
	start=$SECONDS
	if ! start_backend "$sock" "$img" "$queues" "$blog" "$ro"; then
		fail "$name" "the back end did not create its socket within 10 s"
		excerpt "$blog"
		return
	fi
	devopt="vhost-user-blk-pci,chardev=c0,num-queues=$queues"
	[[ $ring = packed ]] && devopt+=",packed=on"
	chropt="socket,id=c0,path=$sock"
	# QEMU 7.2: reconnect=SECONDS (reconnect-ms came in 9.2).
	[[ $gc = restart ]] && chropt+=",reconnect=1"
	local append="console=ttyS0 panic=-1 quiet vio_case=$gc vio_ring=$ring vio_queues=$queues"
	append+=" vio_bytes=$disk_bytes vio_rd=$vio_rd"
	if [[ $gc = restart ]]; then
		append+=" vio_wr=$restart_base:1048576 vio_tok=$restart_tok vio_iter=5"
	else
		append+=" vio_wr=$wr_region"
	fi
	timeout -k 5 "$tmo" qemu-system-x86_64 \
		-M pc,accel=tcg,memory-backend=mem0 -smp "$smp" \
		-object memory-backend-memfd,id=mem0,size=256M,share=on \
		-chardev "$chropt" -device "$devopt" \
		"${bios[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" \
		-nodefaults -nographic -serial mon:stdio -no-reboot \
		</dev/null >"$serial" 2>"$qlog" &
	qpid=$!
	pids+=("$qpid")

	local killed_at='' restarted=0 bdead=0 done_at='' last_n=0 last_t=0 stall=${VIO_LINUX_STALL:-20}
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 0.2
		if [[ $gc = restart && -z $killed_at ]] && grep -aq 'VIO-PROGRESS 3' "$serial"; then
			# Test 4: SIGKILL the back end in the middle of the guest's
			# I/O loop, start it again on the same socket, then tell
			# the guest (a mark in the image) that it is back.
			killed_at=$(grep -ac 'VIO-PROGRESS' "$serial")
			kill -9 "$backend_pid" 2>/dev/null
			wait "$backend_pid" 2>/dev/null
			echo "=== $(date +%T.%N): killed (SIGKILL) after guest iteration $killed_at" >>"$blog"
			sleep 0.5
			if start_backend "$sock" "$img" "$queues" "$blog"; then
				restarted=1
				last_t=$SECONDS
				printf 'VIO-RESTARTED' | dd of="$img" bs=512 seek=$((restart_tok / 512)) \
					conv=notrunc 2>/dev/null
				echo "=== $(date +%T.%N): restarted, image marked ($(dd if="$img" bs=512 skip=$((restart_tok / 512)) count=1 2>/dev/null | tr -d '\0'))" >>"$blog"
			else
				why="the back end did not come back after the restart"
				break
			fi
			continue
		fi
		if [[ $restarted = 1 && -z $done_at ]]; then
			# After the restart the guest must keep making progress.
			n=$(grep -ac 'VIO-PROGRESS' "$serial")
			if ((n != last_n)); then
				last_n=$n
				last_t=$SECONDS
			elif ((SECONDS - last_t >= stall)) && ! grep -aq 'VIO-RESULT' "$serial"; then
				why="the guest's I/O made no progress for $stall s after the back end restarted (iteration $n; a request lost or the ring not resumed where it stopped)"
				break
			fi
		fi
		if ! kill -0 "$backend_pid" 2>/dev/null && ((bdead == 0)); then
			bdead=1
			wait "$backend_pid" 2>/dev/null
			why="the back end exited (status $?) while the guest was running"
			# Give the guest a moment to report what it saw.
			done_at=$((SECONDS + 5))
		fi
		if [[ -z $done_at ]] && grep -aq 'VIO-RESULT' "$serial"; then
			done_at=$((SECONDS + 10)) # reboot -f should end QEMU at once
		fi
		[[ -n $done_at ]] && ((SECONDS >= done_at)) && break
	done
	kill -9 -- "-$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	local qrc=$?
	local secs=$((SECONDS - start))
	kill -9 "$backend_pid" 2>/dev/null
	wait "$backend_pid" 2>/dev/null

	# The console carries terminal escapes (SeaBIOS, the kernel) that may
	# share a line with a marker: drop them and the carriage returns.
	sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1b[a-zA-Z]//g; s/\r//g' "$serial" >"$serial.txt"
	line=$(grep -a '^VIO-INFO features=' "$serial.txt" | tail -n 1)
	local feat=${line#VIO-INFO features=}
	[[ -n $line ]] && note "$c: negotiated: $(decode_features "$feat")"
	line=$(grep -a '^VIO-INFO' "$serial.txt" | grep -v features= | sed 's/^VIO-INFO //' | tr '\n' ' ')
	[[ -n $line ]] && note "$c: guest: $line"
	[[ $gc = restart ]] &&
		note "$c: back end killed after guest iteration ${killed_at:-never}, restarted: $restarted, guest iterations: $(grep -ac '^VIO-PROGRESS' "$serial.txt")"
	note "$c: $secs s (boot timeout $tmo s)"

	result=$(grep -a "^VIO-RESULT $gc " "$serial.txt" | tail -n 1)
	if [[ -z $why && -z $result ]]; then
		if ((qrc == 124 || qrc == 137)); then
			why="no result from the guest within $tmo s (timeout)"
		elif grep -aq 'Kernel panic' "$serial.txt"; then
			why="guest kernel panic: $(grep -a 'Kernel panic' "$serial.txt" | head -n 1)"
		else
			why="QEMU exited (status $qrc) without a result from the guest"
		fi
	fi
	if [[ -z $why && $result != "VIO-RESULT $gc PASS"* ]]; then
		why="guest: ${result#VIO-RESULT "$gc" FAIL }"
	fi
	if [[ -z $why && $gc = restart && $restarted -ne 1 ]]; then
		why="the guest finished before the back end was killed (loop too short)"
	fi
	# The host's side: what the guest wrote is in the image, and the host's
	# own data around it is untouched.
	if [[ -z $why ]]; then
		local off len want got wrote=0
		while read -r _ off len want; do
			wrote=$((wrote + 1))
			got=$(md5_at "$img" "$off" "$len")
			[[ $got = "$want" ]] || {
				why="image at $off+$len has md5 $got after QEMU exited, the guest wrote $want"
				break
			}
		done < <(grep -a '^VIO-WROTE ' "$serial.txt")
		if [[ -z $why && $c != read && $c != ro && $wrote -eq 0 ]]; then
			why="the guest reported no write"
		fi
		if [[ -z $why && $c = ro ]]; then
			off=${wr_region%%:*}
			[[ $(md5_at "$img" "$off" 4096) = "$(head -c 4096 /dev/zero | md5sum | cut -d' ' -f1)" ]] ||
				why="the read-only back end let a write reach the image at $off"
		fi
		local r
		for r in ${vio_rd//,/ }; do
			IFS=: read -r off len want <<<"$r"
			got=$(md5_at "$img" "$off" "$len")
			[[ -n $why || $got = "$want" ]] || why="host data at $off+$len changed (md5 $got, was $want)"
		done
	fi
	if [[ -z $why ]]; then
		pass "$name"
	else
		fail "$name" "$why"
		excerpt "$serial.txt" 20
		excerpt "$blog"
		excerpt "$qlog" 5
	fi
	[[ ${VIO_LINUX_KEEP:-0} = 1 ]] || rm -f "$img"
}

for c in $cases; do
	if [[ -z ${case_name[$c]:-} ]]; then
		fail "linux-$c" "unknown case (known: ${!case_name[*]})"
		continue
	fi
	run_case "$c"
done
((failures == 0))
