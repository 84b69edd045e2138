/* SPDX-License-Identifier: MIT */
/*
 * Gathers and scatters (Intel SDM vol. 2: VGATHERDPS/DPD/QPS/QPD and
 * VPGATHERDD/DQ/QD/QQ in their AVX2 and AVX-512 forms, VSCATTER* and
 * VPSCATTER*), emulated element by element in element order: element j
 * is at base + sign-extended index[j] * scale + disp; it is enabled by the
 * sign bit of mask element j (AVX2) or by bit j of the opmask (AVX-512);
 * each enabled element is one access of the element's width, on the alias
 * where it is traced (and recorded, with its value), through the kernel
 * where it is not (so memory the program may not touch fails like the CPU
 * would instead of faulting inside the handler).  Scatter writes to
 * overlapping elements stay ordered from the lowest element up, as the SDM
 * requires.
 *
 * Completion, as the CPU does it: a gather's destination gets every
 * enabled element and is zeroed above the elements (VEX.128, QPS/QD
 * forms, EVEX.128/256); the AVX2 mask vector is zeroed entirely, the
 * opmask cleared.  An element the program may not access stops the
 * instruction where the CPU's fault would: the elements before it are
 * complete and their mask bits clear (the instruction is restartable),
 * and the fault goes to the program (EMU_NOT_OURS, e->fault_addr).  The
 * SDM leaves the other bits of a partial result open; we keep them as this
 * host's CPUs do (AVX2: upper destination and the rest of the mask
 * untouched; AVX-512: destination zeroed above the elements).
 * signal context.
 */
#include <errno.h>
#include <string.h>

#include "engine/emu-internal.h"
#include "engine/xstate.h"
#include "mmscope/trace-format.h"

/* One element: 0, or -EFAULT with the first byte the program may not
 * access in *bad (nothing of the element accessed then). */
static int element(struct emu_ctx *e, const struct insn *in, const struct cpu *c, uint64_t addr,
		   bool wr, uint8_t *val, uint64_t *bad)
{
	struct emu_op op = { .addr = addr, .width = in->vsib.esize };
	struct emu_plan plan;
	enum emu_result r = emu_plan(e, &op, !wr, wr, &plan);
	unsigned off = 0;
	int i;

	if (r) {
		/* EMU_SLOW would need five regions inside 8 bytes */
		*bad = r == EMU_NOT_OURS ? plan.forbidden : addr;
		return -EFAULT;
	}
	/* untraced pieces first: a piece that fails must leave the traced
	 * ones (a device) untouched, as the CPU's fault would */
	for (i = 0; i < plan.n; off += plan.p[i++].len) {
		const struct emu_piece *p = &plan.p[i];
		if (p->traced)
			continue;
		if ((wr ? emu_untraced_out(p->addr, val + off, p->len, bad)
			: emu_untraced_in(p->addr, val + off, p->len, bad)) < 0)
			return -EFAULT;
	}
	for (i = 0, off = 0; i < plan.n; off += plan.p[i++].len) {
		const struct emu_piece *p = &plan.p[i];
		if (!p->traced)
			continue;
		if (wr)
			emu_piece_out(e, p, val + off, 0, false);
		else
			emu_piece_in(e, p, val + off, 0, false);
		emu_emit(e, in, c, p, wr ? MMS_DIR_WRITE : MMS_DIR_READ,
			 emu_piece_flags(&op, &plan), 1, val + off);
	}
	return 0;
}

/* Write the result back to the XSAVE image: done = elements completed,
 * all = the instruction completed. */
static void finish(struct cpu *c, const struct insn *in, uint8_t *data, uint8_t *maskv,
		   uint32_t done, bool all)
{
	const struct insn_vsib *v = &in->vsib;
	unsigned es = v->esize, used = v->n * es;

	if (!v->scatter) {
		if (all || v->evex)
			memset(data + used, 0, 64 - used);
		xstate_vec_write(c, v->data, data);
	}
	if (v->evex) {
		uint64_t k = all ? 0 : xstate_k_read(c, v->mask) & ~(uint64_t)done;
		xstate_k_write(c, v->mask, k);
		return;
	}
	if (all) {
		memset(maskv, 0, 64);
	} else {
		for (unsigned j = 0; j < v->n; j++)
			if (done & (1u << j))
				memset(maskv + j * es, 0, es);
	}
	xstate_vec_write(c, v->mask, maskv);
}

/* signal context */
enum emu_result emu_vsib(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	const struct insn_vsib *v = &in->vsib;
	uint64_t need = XSTATE_SSE | XSTATE_AVX | (v->evex ? XSTATE_AVX512 : 0);
	uint8_t data[64], index[64], maskv[64];
	unsigned es = v->esize;
	uint32_t enabled = 0, done = 0;

	if (!xstate_has(c, need))
		return EMU_SLOW; /* no image of the registers to work on */
	xstate_vec_read(c, v->data, data);
	xstate_vec_read(c, v->index, index);
	if (v->evex) {
		enabled = (uint32_t)(xstate_k_read(c, v->mask) & ((1ull << v->n) - 1));
	} else {
		xstate_vec_read(c, v->mask, maskv);
		for (unsigned j = 0; j < v->n; j++)
			if (maskv[j * es + es - 1] & 0x80)
				enabled |= 1u << j;
	}
	for (unsigned j = 0; j < v->n; j++) {
		uint64_t bad;

		if (!(enabled & (1u << j)))
			continue;
		if (element(e, in, c, insn_vsib_addr(in, c, index, j), v->scatter, data + j * es,
			    &bad) < 0) {
			finish(c, in, data, maskv, done, false);
			e->fault_addr = bad;
			return EMU_NOT_OURS;
		}
		done |= 1u << j;
	}
	finish(c, in, data, maskv, done, true);
	c->rip += in->len;
	return EMU_DONE;
}
