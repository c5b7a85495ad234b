/* SPDX-License-Identifier: MIT */
/* Machine-mode entry on QEMU riscv64 virt with -bios none: hart 0 sets a
 * stack, clears .bss and calls main(); other harts park. Interrupts stay
 * off (mstatus.MIE is 0 at reset): the program polls. */
	.section .text.start, "ax"
	.globl _start
_start:
	csrr	t0, mhartid
	bnez	t0, park
	la	sp, __stack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	main
	call	board_exit
park:	wfi
	j	park
