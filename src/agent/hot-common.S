/* SPDX-License-Identifier: MIT */
/*
 * The common part of every hot-site stub (see hot.h).  A site's stub
 * does   lea -136(%rsp),%rsp; push $index; jmp *mms_hot_common
 * (skipping the program's red zone and leaving a slot for where to go
 * on), and this saves every general register and the flags, then
 * xmm0-15 (the C code it calls is built for plain x86-64: SSE2 at most,
 * so these are all of the vector state it can touch, and it never
 * touches the upper halves), calls mms_hot_enter(frame), restores what
 * mms_hot_enter left in the frame and returns to frame->cont, giving
 * the red zone back.  hot-run.c knows each step by its label: a signal
 * that interrupts the stub has its context rewound or moved on.
 */
	.text
	.globl mms_hot_common, mms_hot_pushed, mms_hot_framed, mms_hot_returned, mms_hot_end
	.hidden mms_hot_common, mms_hot_pushed, mms_hot_framed, mms_hot_returned, mms_hot_end
	.type mms_hot_common, @function
mms_hot_common:
	pushfq
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rdi
	push %rsi
	push %rbp
	push %rsp
	push %rbx
	push %rdx
	push %rcx
	push %rax
mms_hot_pushed:
	movq mms_hot_tls@gottpoff(%rip), %rax
	movq %rsp, %fs:8(%rax)		/* mms_hot_tls.frame */
mms_hot_framed:
	mov %rsp, %rbx
	sub $256, %rsp
	and $-16, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	movaps %xmm2, 32(%rsp)
	movaps %xmm3, 48(%rsp)
	movaps %xmm4, 64(%rsp)
	movaps %xmm5, 80(%rsp)
	movaps %xmm6, 96(%rsp)
	movaps %xmm7, 112(%rsp)
	movaps %xmm8, 128(%rsp)
	movaps %xmm9, 144(%rsp)
	movaps %xmm10, 160(%rsp)
	movaps %xmm11, 176(%rsp)
	movaps %xmm12, 192(%rsp)
	movaps %xmm13, 208(%rsp)
	movaps %xmm14, 224(%rsp)
	movaps %xmm15, 240(%rsp)
	movq $0, %fs:16(%rax)		/* mms_hot_tls.accessed */
	movq $1, %fs:(%rax)		/* mms_hot_tls.state = HOT_BUSY: from
					   here to the record, signals wait */
mms_hot_busy:
	cld
	mov %rbx, %rdi
	call mms_hot_enter
mms_hot_returned:
	movq mms_hot_tls@gottpoff(%rip), %rax
	movq $0, %fs:(%rax)		/* mms_hot_tls.state = HOT_IDLE */
	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
	movaps 32(%rsp), %xmm2
	movaps 48(%rsp), %xmm3
	movaps 64(%rsp), %xmm4
	movaps 80(%rsp), %xmm5
	movaps 96(%rsp), %xmm6
	movaps 112(%rsp), %xmm7
	movaps 128(%rsp), %xmm8
	movaps 144(%rsp), %xmm9
	movaps 160(%rsp), %xmm10
	movaps 176(%rsp), %xmm11
	movaps 192(%rsp), %xmm12
	movaps 208(%rsp), %xmm13
	movaps 224(%rsp), %xmm14
	movaps 240(%rsp), %xmm15
	mov %rbx, %rsp
	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	lea 8(%rsp), %rsp		/* the rsp slot */
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	popfq
	lea 8(%rsp), %rsp		/* the site index */
	ret $128			/* to frame->cont, past the red zone */
mms_hot_end:
	.size mms_hot_common, mms_hot_end - mms_hot_common

	.section .note.GNU-stack, "", @progbits
