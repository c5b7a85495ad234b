/* SPDX-License-Identifier: MIT */
/* EL1 entry on QEMU aarch64 virt (-kernel of an ELF): sets a stack, clears
 * .bss and calls main(). The MMU and caches stay off, so every data access
 * is Device memory: no unaligned accesses (-mstrict-align) and no FP/SIMD
 * registers (-mgeneral-regs-only: CPACR_EL1 traps them). Interrupts stay
 * masked (DAIF is set at reset): the program polls. */
	.section .text.start, "ax"
	.globl _start
_start:
	mrs	x0, mpidr_el1
	and	x0, x0, #0xff
	cbnz	x0, park
	ldr	x0, =__stack_top
	mov	sp, x0
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	bl	main
	bl	board_exit
park:	wfe
	b	park
