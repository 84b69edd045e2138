/* SPDX-License-Identifier: MIT */
/*
 * Emulation of the instructions with two memory operands or an implicit
 * one: string instructions (MOVS/STOS/LODS/CMPS/SCAS, with REP), PUSH m,
 * POP m, CALL m, JMP m and XLAT.  Each element is one exact-width access,
 * recorded where it touches a traced region.  A REP run that leaves the
 * traced regions is handed back to the CPU with RIP still on the
 * instruction, so an untraced tail runs at native speed.  signal context.
 */
#include <string.h>

#include "engine/emu-internal.h"
#include "mmscope/trace-format.h"

/* Flags of CMP a, b (a - b) at the given width, as the CPU computes them. */
static uint64_t cmp_flags(uint64_t a, uint64_t b, unsigned w)
{
	uint64_t fl;

	switch (w) {
	case 1:
		__asm__("cmpb %b2, %b1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "q"(a), "q"(b) : "cc");
		break;
	case 2:
		__asm__("cmpw %w2, %w1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "r"(a), "r"(b) : "cc");
		break;
	case 4:
		__asm__("cmpl %k2, %k1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "r"(a), "r"(b) : "cc");
		break;
	default:
		__asm__("cmpq %2, %1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "r"(a), "r"(b) : "cc");
		break;
	}
	return fl & CPU_FLAGS_ARITH;
}

static int range_untraced(const struct emu_ctx *e, uint64_t addr, uint64_t bytes, int down)
{
	uint64_t lo = down ? addr - bytes : addr, hi = down ? addr + 8 : addr + bytes;
	struct region r;

	if (down && bytes > addr)
		return 0;
	if (region_find(e->regions, lo, &r) == 0)
		return 0;
	return region_next_start(e->regions, lo) >= hi;
}

static void set_acc(struct cpu *c, uint64_t v, unsigned w)
{
	uint64_t *rax = &c->gpr[GPR_RAX];

	if (w == 1)
		*rax = (*rax & ~0xffull) | (v & 0xff);
	else if (w == 2)
		*rax = (*rax & ~0xffffull) | (v & 0xffff);
	else if (w == 4)
		*rax = v & 0xffffffffull;
	else
		*rax = v;
}

/* signal context */
enum emu_result emu_string(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	const ZydisInstructionAttributes at = in->zi.attributes;
	enum insn_str k = in->str;
	unsigned w = in->width;
	int rep = !!(at & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE));
	int repne = !!(at & ZYDIS_ATTRIB_HAS_REPNE);
	int down = !!(c->rflags & CPU_FLAG_DF);
	int64_t step = down ? -(int64_t)w : (int64_t)w;
	uint16_t fl = MMS_AF_STRING;
	int done_any = 0;

	for (;;) {
		uint64_t a = 0, b = 0;
		/* this element and the rest of the run: a hint that lets the
		 * recorder size a run record */
		uint32_t left = !rep			       ? 1
				: c->gpr[GPR_RCX] > UINT32_MAX ? UINT32_MAX
							       : (uint32_t)c->gpr[GPR_RCX];
		enum emu_result r;

		if (rep && c->gpr[GPR_RCX] == 0)
			break;
		if (rep && done_any) {
			/* Leave an untraced tail to the CPU: RIP stays put. */
			uint64_t bytes = c->gpr[GPR_RCX] * w;
			int src = k == INSN_STR_MOVS || k == INSN_STR_LODS || k == INSN_STR_CMPS;
			int dst = k != INSN_STR_LODS;
			if ((!src || range_untraced(e, c->gpr[GPR_RSI], bytes, down)) &&
			    (!dst || range_untraced(e, c->gpr[GPR_RDI], bytes, down)))
				return EMU_DONE;
		}
		switch (k) {
		case INSN_STR_MOVS:
			r = emu_read(e, in, c, c->gpr[GPR_RSI], w, fl, left, (uint8_t *)&a);
			if (!r)
				r = emu_write(e, in, c, c->gpr[GPR_RDI], w, fl, left,
					      (uint8_t *)&a);
			break;
		case INSN_STR_STOS:
			a = c->gpr[GPR_RAX];
			r = emu_write(e, in, c, c->gpr[GPR_RDI], w, fl, left, (uint8_t *)&a);
			break;
		case INSN_STR_LODS:
			r = emu_read(e, in, c, c->gpr[GPR_RSI], w, fl, left, (uint8_t *)&a);
			if (!r)
				set_acc(c, a, w);
			break;
		case INSN_STR_CMPS:
			r = emu_read(e, in, c, c->gpr[GPR_RSI], w, fl, left, (uint8_t *)&a);
			if (!r)
				r = emu_read(e, in, c, c->gpr[GPR_RDI], w, fl, left, (uint8_t *)&b);
			if (!r)
				c->rflags = (c->rflags & ~(uint64_t)CPU_FLAGS_ARITH) |
					    cmp_flags(a, b, w);
			break;
		default: /* SCAS */
			r = emu_read(e, in, c, c->gpr[GPR_RDI], w, fl, left, (uint8_t *)&b);
			if (!r)
				c->rflags = (c->rflags & ~(uint64_t)CPU_FLAGS_ARITH) |
					    cmp_flags(c->gpr[GPR_RAX], b, w);
			break;
		}
		if (r)
			return done_any ? EMU_DONE : r;
		done_any = 1;
		if (k == INSN_STR_MOVS || k == INSN_STR_LODS || k == INSN_STR_CMPS)
			c->gpr[GPR_RSI] += step;
		if (k != INSN_STR_LODS)
			c->gpr[GPR_RDI] += step;
		if (!rep)
			break;
		c->gpr[GPR_RCX]--;
		if (k == INSN_STR_CMPS || k == INSN_STR_SCAS) {
			int zf = !!(c->rflags & CPU_FLAG_ZF);
			if (repne ? zf : !zf)
				break;
		}
	}
	c->rip += in->len;
	return EMU_DONE;
}

/* signal context: PUSH m, POP m, CALL m, JMP m */
enum emu_result emu_stack(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	unsigned w = in->width;
	uint64_t v = 0;
	enum emu_result r;

	switch (in->cls) {
	case INSN_PUSH_MEM:
		r = emu_read(e, in, c, insn_mem_addr(in, c), w, 0, 1, (uint8_t *)&v);
		if (r)
			return r;
		c->gpr[GPR_RSP] -= w;
		memcpy((void *)c->gpr[GPR_RSP], &v, w);
		break;
	case INSN_POP_MEM:
		memcpy(&v, (void *)c->gpr[GPR_RSP], w);
		c->gpr[GPR_RSP] += w;
		/* SDM: an RSP-based destination is computed after the pop */
		r = emu_write(e, in, c, insn_mem_addr(in, c), w, 0, 1, (uint8_t *)&v);
		if (r) {
			c->gpr[GPR_RSP] -= w;
			return r;
		}
		break;
	default: { /* CALL m64 / JMP m64 */
		r = emu_read(e, in, c, insn_mem_addr(in, c), 8, 0, 1, (uint8_t *)&v);
		if (r)
			return r;
		if (in->zi.mnemonic == ZYDIS_MNEMONIC_CALL) {
			uint64_t ret = c->rip + in->len;
			c->gpr[GPR_RSP] -= 8;
			memcpy((void *)c->gpr[GPR_RSP], &ret, 8);
		}
		c->rip = v;
		return EMU_DONE;
	}
	}
	c->rip += in->len;
	return EMU_DONE;
}

/* signal context: XLAT, AL = [rbx + al] (Intel SDM vol. 2B): a one-byte
 * load, not ours unless it touches a traced region, like a MOV */
enum emu_result emu_xlat(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	struct emu_op op = { .addr = insn_mem_addr(in, c), .width = 1 };
	struct emu_plan plan;
	enum emu_result r = emu_plan(e, &op, true, false, &plan);
	uint8_t v;

	if (r)
		return r;
	if (!plan.traced)
		return EMU_NOT_OURS;
	emu_do_read(e, in, c, &op, &plan, &v);
	c->gpr[GPR_RAX] = (c->gpr[GPR_RAX] & ~0xffull) | v;
	c->rip += in->len;
	return EMU_DONE;
}
