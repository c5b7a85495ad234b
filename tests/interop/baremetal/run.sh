#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Interop: the freestanding driver side (ring, driver core, virtio-mmio and
# virtio-pci fronts, blk and rng helpers) on bare metal under QEMU, against
# QEMU's own virtio-blk and virtio-rng devices.
#
#   run.sh BUILD_DIR WORK_DIR
#
# BUILD_DIR is not used (the program is cross-compiled here, freestanding,
# from the library sources); WORK_DIR receives the builds, disk images and
# logs. Installs the cross compilers and QEMU with apt-get when missing (as
# root). One boot per {riscv64, aarch64} × {mmio, pci} × {split, packed};
# each boot checks blk and rng, so each prints two lines:
#   PASS <arch>-<transport>-<format>-blk   (or FAIL …: why)
#   PASS <arch>-<transport>-<format>-rng
# blk passes when the program read the host's sector, wrote, flushed, read
# back and compared its own, read the serial, negotiated (or not) the packed
# ring as the case demands, AND the host image afterwards holds exactly the
# two patterns at their offsets (and zeros elsewhere).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${2:-}
if [[ -z $work ]]; then
	echo "usage: run.sh BUILD_DIR WORK_DIR" >&2
	exit 2
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

archs=(riscv64 aarch64)
transports=(mmio pci)
formats=(split packed)
HOST_SECTOR=2
GUEST_SECTOR=5
BOOT_TIMEOUT=30 # seconds; a boot takes well under one

fail_all() { # why
	for a in "${archs[@]}"; do
		for t in "${transports[@]}"; do
			for f in "${formats[@]}"; do
				echo "FAIL $a-$t-$f-blk: $1"
				echo "FAIL $a-$t-$f-rng: $1"
			done
		done
	done
	exit 1
}

# ---- Tools -------------------------------------------------------------------------------
need=()
command -v make >/dev/null || need+=(make)
command -v riscv64-linux-gnu-gcc >/dev/null || need+=(gcc-riscv64-linux-gnu)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v qemu-system-riscv64 >/dev/null || need+=(qemu-system-misc)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
if ((${#need[@]} > 0)); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "installing ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update && apt-get install -y --no-install-recommends "${need[@]}"; } \
			>"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; fail_all "apt-get install ${need[*]} failed"; }
	else
		fail_all "missing ${need[*]} (not root: install them)"
	fi
fi
qemu-system-riscv64 --version | head -1

# ---- Build ---------------------------------------------------------------------------------
built=()
for a in "${archs[@]}"; do
	if make -s -C "$here" ARCH="$a" O="$work/out/$a" -j2 >"$work/build-$a.log" 2>&1; then
		built+=("$a")
	else
		tail -30 "$work/build-$a.log"
	fi
done

# ---- Images ----------------------------------------------------------------------------------
# "<prefix> <case>\n" repeated over 512 bytes: what bm.c's fill_pattern() makes.
pattern() { # prefix case
	local line="$1 $2"$'\n' s=""
	while ((${#s} < 512)); do s+=$line; done
	printf '%s' "${s:0:512}"
}

make_image() { # file case [with_guest_sector]
	rm -f "$1"
	truncate -s 1M "$1"
	pattern "host->guest" "$2" | dd of="$1" bs=512 seek=$HOST_SECTOR conv=notrunc status=none
	if [[ ${3:-} = with_guest ]]; then
		pattern "guest->host" "$2" | dd of="$1" bs=512 seek=$GUEST_SECTOR conv=notrunc status=none
	fi
}

# ---- Boots ---------------------------------------------------------------------------------
status=0
report() { # case dev pass(0/1) why
	if [[ $3 -eq 0 ]]; then
		echo "PASS $1-$2"
	else
		echo "FAIL $1-$2: $4"
		status=1
	fi
}

for a in "${archs[@]}"; do
	for t in "${transports[@]}"; do
		for f in "${formats[@]}"; do
			c="$a-$t-$f"
			if [[ " ${built[*]} " != *" $a "* ]]; then
				report "$c" blk 1 "build for $a failed (see $work/build-$a.log)"
				report "$c" rng 1 "build for $a failed"
				continue
			fi
			img="$work/$c.img"
			log="$work/$c.log"
			make_image "$img" "$c"
			p=""
			[[ $f = packed ]] && p=",packed=on"
			if [[ $t = mmio ]]; then
				# virt's virtio-mmio transports default to legacy (version 1).
				devs=(-global virtio-mmio.force-legacy=false
					-device "virtio-blk-device,drive=d0,serial=vio-bm$p"
					-device "virtio-rng-device$p")
			else
				devs=(-device "virtio-blk-pci,drive=d0,serial=vio-bm,disable-legacy=on$p"
					-device "virtio-rng-pci,disable-legacy=on$p")
			fi
			if [[ $a = riscv64 ]]; then
				machine=(qemu-system-riscv64 -M virt -bios none)
			else
				machine=(qemu-system-aarch64 -M virt,highmem=off -cpu cortex-a57
					-semihosting-config enable=on,target=native)
			fi
			start=$(date +%s%N)
			timeout "$BOOT_TIMEOUT" "${machine[@]}" -m 128M -nodefaults -display none \
				-monitor none -serial stdio \
				-drive "file=$img,if=none,format=raw,id=d0" "${devs[@]}" \
				-kernel "$work/out/$a/bm-$t-$f.elf" </dev/null >"$log" 2>&1
			rc=$?
			ms=$((($(date +%s%N) - start) / 1000000))
			tr -d '\r' <"$log" >"$log.txt"
			echo "== $c: QEMU exit $rc after $ms ms"
			grep -E '^(blk|rng): (features|ring)' "$log.txt" | sed 's/^/   /'
			why=""
			case $rc in
			0) ;;
			124) why="QEMU timed out after ${BOOT_TIMEOUT}s" ;;
			*) why="QEMU exit status $rc" ;;
			esac
			for dev in blk rng; do
				ok=1
				reason=$why
				if grep -qx "RESULT $dev PASS" "$log.txt"; then
					ok=0
				elif [[ -z $reason ]]; then
					reason="no RESULT $dev PASS line"
				fi
				if [[ $ok -eq 0 && $dev = blk ]]; then
					make_image "$img.expect" "$c" with_guest
					if ! cmp -s "$img" "$img.expect"; then
						ok=1
						reason="the host image does not hold the written sector at offset $((GUEST_SECTOR * 512)) (or holds other changes): $(cmp "$img" "$img.expect" 2>&1 | head -1)"
					fi
				fi
				if [[ $ok -ne 0 ]]; then
					last=$(grep -E "^$dev: " "$log.txt" | tail -1)
					[[ -n $last ]] && reason="$reason; last: $last"
				fi
				report "$c" "$dev" "$ok" "$reason"
			done
			if [[ $rc -ne 0 ]]; then
				sed 's/^/   | /' "$log.txt" | tail -25
			fi
		done
	done
done
exit $status
