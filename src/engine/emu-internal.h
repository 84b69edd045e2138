/* SPDX-License-Identifier: MIT */
/* Shared by the engine's files (emulate.c, strop.c, atomic.c, vsib.c):
 * access helpers that split an access at region boundaries, check the
 * program's protection, perform it exactly once and record the traced
 * parts; and out-of-line execution of the re-encoded instruction.
 * signal context. */
#ifndef MMS_ENGINE_EMU_INTERNAL_H
#define MMS_ENGINE_EMU_INTERNAL_H

#include "engine/emulate.h"

struct emu_op {
	uint64_t addr;
	unsigned width;
	uint64_t bytemask; /* 0 = all bytes */
	uint16_t flags;	   /* extra MMS_AF_* for the records */
	uint32_t run_left; /* emu_access.run_left; 0 counts as 1 */
	bool nt;
};

#define EMU_PIECES_MAX 4

struct emu_piece {
	uint64_t addr;
	unsigned len;
	uint8_t *ptr;  /* alias or the program's own address */
	uint64_t mask; /* op->bytemask from this piece's first byte, 0 = all */
	bool traced;
	struct region r;
};

struct emu_plan {
	int n;
	int traced;	    /* pieces in traced regions; 0: none at all */
	uint64_t forbidden; /* EMU_NOT_OURS: the first byte the program's
			       protection does not allow */
	struct emu_piece p[EMU_PIECES_MAX];
};

/* EMU_DONE (planned; plan->traced may be 0), EMU_NOT_OURS (the program
 * may not make this access) or EMU_SLOW (too many pieces, or a masked
 * access split across regions). */
enum emu_result emu_plan(const struct emu_ctx *e, const struct emu_op *op, bool rd, bool wr,
			 struct emu_plan *plan);
void emu_do_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		 const struct emu_op *op, const struct emu_plan *plan, uint8_t *buf);
void emu_do_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		  const struct emu_op *op, const struct emu_plan *plan, const uint8_t *buf);
/* One traced piece's bytes (alias, or peek/poke for alias-less regions). */
void emu_piece_in(struct emu_ctx *e, const struct emu_piece *p, uint8_t *dst, uint64_t bytemask,
		  bool nt);
void emu_piece_out(struct emu_ctx *e, const struct emu_piece *p, const uint8_t *src,
		   uint64_t bytemask, bool nt);
uint16_t emu_piece_flags(const struct emu_op *op, const struct emu_plan *plan);
void emu_emit(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
	      const struct emu_piece *p, int dir, uint16_t flags, uint32_t run_left,
	      const uint8_t *value);

/* One-shot read / write with planning (strop.c): untraced memory is the
 * program's own and accessed directly.  EMU_DONE, EMU_NOT_OURS, EMU_SLOW. */
enum emu_result emu_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
			 uint64_t addr, unsigned width, uint16_t flags, uint32_t run_left,
			 uint8_t *buf);
enum emu_result emu_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
			  uint64_t addr, unsigned width, uint16_t flags, uint32_t run_left,
			  const uint8_t *buf);

/* Untraced memory through the kernel, which checks the program's access
 * rights instead of faulting inside the handler: 0, or -EFAULT with the
 * first inaccessible byte in *bad. */
int emu_untraced_in(uint64_t addr, void *buf, unsigned len, uint64_t *bad);
int emu_untraced_out(uint64_t addr, const void *buf, unsigned len, uint64_t *bad);

/* The instruction re-encoded on [tmp] (xol.S), ready to run. */
struct xol_prep {
	int tmp, sub;
	uint8_t *code;
};

/* Re-encode before any access is made, so a failure leaves the access to
 * the slow path untouched.  EMU_DONE or EMU_SLOW. */
enum emu_result emu_xol_prepare(struct emu_ctx *e, const struct insn *in, struct xol_prep *x);
/* Run it with the program's registers, its memory operand at target. */
void emu_xol_run(struct emu_ctx *e, const struct insn *in, struct cpu *c, const struct xol_prep *x,
		 uint64_t target);

enum emu_result emu_string(struct emu_ctx *e, const struct insn *in, struct cpu *c);
enum emu_result emu_stack(struct emu_ctx *e, const struct insn *in, struct cpu *c);
enum emu_result emu_xlat(struct emu_ctx *e, const struct insn *in, struct cpu *c);
/* A locked read-modify-write on the single piece p (which has an alias). */
enum emu_result emu_atomic(struct emu_ctx *e, const struct insn *in, struct cpu *c,
			   const struct emu_piece *p, const struct xol_prep *x);
enum emu_result emu_vsib(struct emu_ctx *e, const struct insn *in, struct cpu *c);

#endif
