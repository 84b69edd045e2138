/* SPDX-License-Identifier: MIT */
/*
 * The common part of every hot-site stub (see hot.h).  A site's stub
 * does   lea -136(%rsp),%rsp; push $index; jmp *mms_hot_common
 * (skipping the program's red zone and leaving a slot for where to go
 * on), and this saves every general register and the flags and calls
 * mms_hot_fast(frame), which completes the plain forms with general
 * registers alone.  When it cannot, this saves all of the x87, SSE, AVX
 * and AVX-512 state with XSAVE below the frame (the C library's string
 * functions mmscope calls use ymm/zmm registers and masks on CPUs that
 * have them) and calls mms_hot_enter(frame).  Then it restores what they
 * left in the frame and returns to frame->cont, giving the red zone
 * back.  hot-run.c knows each step by its label: a signal
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
	movq $0, %fs:16(%rax)		/* mms_hot_tls.accessed */
	movq $0, %fs:160(%rax)		/* mms_hot_tls.vector */
	movq $1, %fs:(%rax)		/* mms_hot_tls.state = HOT_BUSY: from
					   here to the record, signals wait */
	and $-16, %rsp
	cld
	mov %rbx, %rdi
	call mms_hot_fast		/* general registers only */
	test %eax, %eax
	jnz mms_hot_returned
	sub mms_hot_xsave_size(%rip), %rsp
	and $-64, %rsp
	movq $0, 512(%rsp)		/* the XSAVE header: XRSTOR wants its */
	movq $0, 520(%rsp)		/* reserved bytes zero */
	movq $0, 528(%rsp)
	movq $0, 536(%rsp)
	movq $0, 544(%rsp)
	movq $0, 552(%rsp)
	movq $0, 560(%rsp)
	movq $0, 568(%rsp)
	mov $-1, %eax
	mov $-1, %edx
	xsave (%rsp)			/* every user state component enabled */
	movq mms_hot_tls@gottpoff(%rip), %rax
	movq $1, %fs:160(%rax)		/* mms_hot_tls.vector */
	mov %rbx, %rdi
	call mms_hot_enter
mms_hot_returned:
	movq mms_hot_tls@gottpoff(%rip), %rax
	movq $0, %fs:(%rax)		/* mms_hot_tls.state = HOT_IDLE */
	cmpq $0, %fs:160(%rax)
	je 1f
	mov $-1, %eax
	mov $-1, %edx
	xrstor (%rsp)
1:
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
