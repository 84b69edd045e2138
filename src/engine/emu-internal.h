/* SPDX-License-Identifier: MIT */
/* Shared between emulate.c and strop.c: access helpers that split an
 * access at region boundaries, check the program's protection, perform it
 * exactly once and record the traced parts.  signal context. */
#ifndef MMS_ENGINE_EMU_INTERNAL_H
#define MMS_ENGINE_EMU_INTERNAL_H

#include "engine/emulate.h"

struct emu_op {
	uint64_t addr;
	unsigned width;
	uint64_t bytemask; /* 0 = all bytes */
	uint16_t flags;	   /* extra MMS_AF_* for the records */
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
	struct emu_piece p[EMU_PIECES_MAX];
};

/* emu_plan() only: no byte of the access is in a traced region */
#define EMU_UNTRACED 3

/* 0, or EMU_NOT_OURS (the program may not access it) / EMU_SLOW /
 * EMU_UNTRACED */
int emu_plan(const struct emu_ctx *e, const struct emu_op *op, bool rd, bool wr,
	     struct emu_plan *plan);
void emu_do_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		 const struct emu_op *op, const struct emu_plan *plan, uint8_t *buf);
void emu_do_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		  const struct emu_op *op, const struct emu_plan *plan, const uint8_t *buf);
void emu_emit(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
	      const struct emu_piece *p, int dir, uint16_t flags, const uint8_t *value);

/* One-shot read / write with planning (for strop.c). */
int emu_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c, uint64_t addr,
	     unsigned width, uint16_t flags, uint8_t *buf);
int emu_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c, uint64_t addr,
	      unsigned width, uint16_t flags, const uint8_t *buf);

enum emu_result emu_string(struct emu_ctx *e, const struct insn *in, struct cpu *c);
enum emu_result emu_stack(struct emu_ctx *e, const struct insn *in, struct cpu *c);

#endif
