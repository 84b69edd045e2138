/* SPDX-License-Identifier: MIT */
/*
 * Out-of-line execution: run one re-encoded instruction (followed by RET)
 * with the program's general-purpose registers, flags and, if xsave is
 * set, its whole XSAVE state loaded; then save them back.  RSP is not
 * loaded (the code runs on the handler's stack), which is why insn.c
 * renames explicit RSP operands and leaves implicit stack users to others.
 * signal context.
 */
#ifndef MMS_ENGINE_XOL_H
#define MMS_ENGINE_XOL_H

#include <stdint.h>

struct xol_frame {
	uint64_t gpr[16]; /* hardware order; gpr[RSP] ignored */
	uint64_t rflags;  /* TF is cleared before loading */
	void *code;	  /* instruction + RET, in executable memory */
	void *xsave;	  /* 64-byte aligned XSAVE image or NULL */
	uint64_t xmask;	  /* XRSTOR/XSAVE feature mask */
};

void xol_run(struct xol_frame *f);

#endif
