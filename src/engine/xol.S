/* SPDX-License-Identifier: MIT */
/* void xol_run(struct xol_frame *f) -- see xol.h.  Offsets follow the
 * struct: gpr[i] at 8*i, rflags 128, code 136, xsave 144, xmask 152. */
	.text
	.globl	xol_run
	.hidden	xol_run
	.type	xol_run, @function
xol_run:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* 8(%rsp) after the next push: frame */
	movq	144(%rdi), %rsi
	testq	%rsi, %rsi
	jz	1f
	movl	152(%rdi), %eax
	movl	156(%rdi), %edx
	xrstor64 (%rsi)
1:
	movq	128(%rdi), %rax
	andq	$~0x100, %rax		/* never load TF */
	pushq	%rax
	popfq
	pushq	136(%rdi)		/* code pointer at 0(%rsp) */
	movq	0(%rdi), %rax
	movq	8(%rdi), %rcx
	movq	16(%rdi), %rdx
	movq	24(%rdi), %rbx
	movq	40(%rdi), %rbp
	movq	48(%rdi), %rsi
	movq	64(%rdi), %r8
	movq	72(%rdi), %r9
	movq	80(%rdi), %r10
	movq	88(%rdi), %r11
	movq	96(%rdi), %r12
	movq	104(%rdi), %r13
	movq	112(%rdi), %r14
	movq	120(%rdi), %r15
	movq	56(%rdi), %rdi
	call	*(%rsp)
	pushfq				/* 0: flags, 8: code, 16: frame */
	xchgq	%rdi, 16(%rsp)		/* rdi = frame; slot = program rdi */
	popq	128(%rdi)
	movq	%rax, 0(%rdi)
	movq	%rcx, 8(%rdi)
	movq	%rdx, 16(%rdi)
	movq	%rbx, 24(%rdi)
	movq	%rbp, 40(%rdi)
	movq	%rsi, 48(%rdi)
	movq	%r8, 64(%rdi)
	movq	%r9, 72(%rdi)
	movq	%r10, 80(%rdi)
	movq	%r11, 88(%rdi)
	movq	%r12, 96(%rdi)
	movq	%r13, 104(%rdi)
	movq	%r14, 112(%rdi)
	movq	%r15, 120(%rdi)
	movq	8(%rsp), %rax
	movq	%rax, 56(%rdi)
	cld
	movq	144(%rdi), %rsi
	testq	%rsi, %rsi
	jz	2f
	movl	152(%rdi), %eax
	movl	156(%rdi), %edx
	xsave64	(%rsi)
2:
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	xol_run, .-xol_run
	.section .note.GNU-stack,"",@progbits
