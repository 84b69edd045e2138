/* SPDX-License-Identifier: MIT */
/*
 * Completing a faulting access exactly once (see emulate.h).
 *
 * Plain instructions with one memory operand are re-encoded with the
 * operand replaced by [tmp] and run out of line (xol.S) with the program's
 * registers loaded.  Loads: one exact-width read of the real object into
 * scratch, then the instruction runs on scratch.  Stores: the instruction
 * runs on scratch, then one exact-width write to the object.  Non-atomic
 * read-modify-writes do both.  Atomic ones (LOCK, XCHG) run directly on the
 * alias so they stay atomic against other threads and processes; their
 * values are known only where the instruction returns the old value.
 */
#include <string.h>
#include <sys/mman.h>
#include <cpuid.h>

#include "engine/copy.h"
#include "engine/icache.h"
#include "engine/emu-internal.h"
#include "engine/xol.h"
#include "mmscope/trace-format.h"

static uint32_t xsave_opmask_offset;

void emu_init(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid_count(0xd, 5, &a, &b, &c, &d) && a)
		xsave_opmask_offset = b;
}

/* signal context */
uint64_t emu_read_kreg(const struct cpu *c, int k)
{
	uint64_t bv, v;

	if (!c->xsave || !xsave_opmask_offset || k <= 0 || k > 7)
		return k == 0 ? ~0ull : 0;
	memcpy(&bv, (uint8_t *)c->xsave + 512, 8); /* XSTATE_BV, SDM 13.4.2 */
	if (!(bv & (1u << 5)))
		return 0;
	memcpy(&v, (uint8_t *)c->xsave + xsave_opmask_offset + 8 * k, 8);
	return v;
}

/* signal context */
int emu_plan(const struct emu_ctx *e, const struct emu_op *op, bool rd, bool wr,
	     struct emu_plan *plan)
{
	uint64_t a = op->addr, end = op->addr + op->width;
	int traced = 0;

	plan->n = 0;
	while (a < end) {
		struct emu_piece *p = &plan->p[plan->n];
		uint64_t hi;

		if (plan->n == EMU_PIECES_MAX)
			return EMU_SLOW;
		if (region_find(e->regions, a, &p->r) == 0) {
			if ((rd && !(p->r.prot & PROT_READ)) || (wr && !(p->r.prot & PROT_WRITE)))
				return EMU_NOT_OURS;
			hi = end < p->r.end ? end : p->r.end;
			p->ptr = p->r.alias ? p->r.alias + (a - p->r.start) : NULL;
			p->traced = true;
			traced++;
		} else {
			uint64_t next = region_next_start(e->regions, a);
			hi = end < next ? end : next;
			p->ptr = (uint8_t *)a;
			p->traced = false;
		}
		p->addr = a;
		p->len = hi - a;
		p->mask = op->bytemask ? op->bytemask >> (a - op->addr) : 0;
		plan->n++;
		a = hi;
	}
	if (!traced)
		return EMU_UNTRACED;
	if (plan->n > 1 && op->bytemask)
		return EMU_SLOW;
	return 0;
}

/* signal context */
void emu_emit(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
	      const struct emu_piece *p, int dir, uint16_t flags, const uint8_t *value)
{
	struct emu_access a = {
		.addr = p->addr,
		.offset = p->addr - p->r.base,
		.region = p->r.id,
		.width = p->len,
		.dir = dir,
		.flags = flags,
		.rflags = p->r.flags,
		.mask = (flags & MMS_AF_MASKED) ? p->mask : 0,
		.run_left = 1,
		.value = value,
	};
	if (e->record)
		e->record(e->arg, in, c, &a);
}

static uint16_t piece_flags(const struct emu_op *op, const struct emu_plan *plan)
{
	return op->flags | (plan->n > 1 ? MMS_AF_SPLIT : 0) | (op->bytemask ? MMS_AF_MASKED : 0);
}

/* signal context: a piece of a region without alias, read whole (ordinary
 * memory: no side effects), bytes outside bytemask zeroed as a masked load
 * does */
static void piece_peek(struct emu_ctx *e, const struct emu_piece *p, uint8_t *dst,
		       uint64_t bytemask)
{
	if (!e->peek || e->peek(p->addr, dst, p->len) < 0)
		memset(dst, 0, p->len);
	if (bytemask)
		for (unsigned i = 0; i < p->len && i < 64; i++)
			if (!(bytemask & (1ull << i)))
				dst[i] = 0;
}

/* signal context: only the bytes in bytemask, one poke per run */
static void piece_poke(struct emu_ctx *e, const struct emu_piece *p, const uint8_t *src,
		       uint64_t bytemask)
{
	unsigned i = 0;

	if (!e->poke)
		return;
	if (!bytemask) {
		e->poke(p->addr, src, p->len);
		return;
	}
	while (i < p->len && i < 64) {
		unsigned j = i;
		if (!(bytemask & (1ull << i))) {
			i++;
			continue;
		}
		while (j < p->len && j < 64 && (bytemask & (1ull << j)))
			j++;
		e->poke(p->addr + i, src + i, j - i);
		i = j;
	}
}

/* signal context */
void emu_do_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		 const struct emu_op *op, const struct emu_plan *plan, uint8_t *buf)
{
	unsigned off = 0;

	for (int i = 0; i < plan->n; i++) {
		const struct emu_piece *p = &plan->p[i];
		if (p->traced && !p->ptr)
			piece_peek(e, p, buf + off, op->bytemask);
		else
			copy_in(buf + off, p->ptr, p->len, op->bytemask, op->nt && plan->n == 1);
		if (p->traced)
			emu_emit(e, in, c, p, MMS_DIR_READ, piece_flags(op, plan), buf + off);
		off += p->len;
	}
}

/* signal context */
void emu_do_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		  const struct emu_op *op, const struct emu_plan *plan, const uint8_t *buf)
{
	unsigned off = 0;

	for (int i = 0; i < plan->n; i++) {
		const struct emu_piece *p = &plan->p[i];
		if (p->traced && !p->ptr)
			piece_poke(e, p, buf + off, op->bytemask);
		else
			copy_out(p->ptr, buf + off, p->len, op->bytemask, op->nt && plan->n == 1);
		if (p->traced)
			emu_emit(e, in, c, p, MMS_DIR_WRITE, piece_flags(op, plan), buf + off);
		off += p->len;
	}
}

/* signal context */
int emu_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c, uint64_t addr,
	     unsigned width, uint16_t flags, uint8_t *buf)
{
	struct emu_op op = { .addr = addr, .width = width, .flags = flags };
	struct emu_plan plan;
	int r = emu_plan(e, &op, true, false, &plan);

	if (r == EMU_UNTRACED) {
		/* untraced memory: the program's own, plain access */
		memcpy(buf, (const void *)addr, width);
		return 0;
	}
	if (r)
		return r;
	emu_do_read(e, in, c, &op, &plan, buf);
	return 0;
}

/* signal context */
int emu_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c, uint64_t addr,
	      unsigned width, uint16_t flags, const uint8_t *buf)
{
	struct emu_op op = { .addr = addr, .width = width, .flags = flags };
	struct emu_plan plan;
	int r = emu_plan(e, &op, false, true, &plan);

	if (r == EMU_UNTRACED) {
		memcpy((void *)addr, buf, width);
		return 0;
	}
	if (r)
		return r;
	emu_do_write(e, in, c, &op, &plan, buf);
	return 0;
}

struct xol_prep {
	int tmp, sub;
	uint8_t *code;
};

/* signal context: re-encode before any access is made, so a failure here
 * leaves the access to the slow path without having touched the object. */
static enum emu_result prepare_out_of_line(struct emu_ctx *e, const struct insn *in,
					   struct xol_prep *x)
{
	struct icache_entry *ce = e->cached;
	int n;

	if (ce && ce->code_len) {
		x->tmp = ce->tmp;
		x->sub = ce->sub;
		x->code = ce->xcode;
		return EMU_DONE;
	}
	x->code = ce && ce->xcode ? ce->xcode : e->code;
	x->sub = -1;
	x->tmp = insn_pick_tmp(in, 0);
	if (x->tmp < 0)
		return EMU_SLOW;
	if (in->rsp_operand) {
		x->sub = insn_pick_tmp(in, 1u << x->tmp);
		if (x->sub < 0)
			return EMU_SLOW;
	}
	n = insn_rewrite(in, x->tmp, x->sub, x->code, EMU_CODE_SIZE);
	if (n < 0)
		return EMU_SLOW;
	if (ce && ce->xcode) {
		ce->tmp = (int8_t)x->tmp;
		ce->sub = (int8_t)x->sub;
		ce->code_len = (uint8_t)n;
	}
	return EMU_DONE;
}

/* signal context: run the re-encoded instruction with [tmp] = target */
static void run_out_of_line(struct emu_ctx *e, const struct insn *in, struct cpu *c,
			    const struct xol_prep *x, uint64_t target)
{
	struct xol_frame f;
	int tmp = x->tmp, sub = x->sub;

	memcpy(f.gpr, c->gpr, sizeof(f.gpr));
	f.gpr[tmp] = target - (uint64_t)insn_bt_delta(in, c);
	if (sub >= 0)
		f.gpr[sub] = c->gpr[GPR_RSP];
	f.rflags = c->rflags;
	f.code = x->code;
	f.xsave = in->uses_vector ? c->xsave : NULL;
	/* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM (SDM vol. 1, 13.1): all an
	 * instruction here can touch; PKRU and the rest stay as they are */
	f.xmask = c->xfeatures & 0xe7;
	xol_run(&f);

	uint64_t keep_tmp = c->gpr[tmp], keep_rsp = c->gpr[GPR_RSP];
	uint64_t keep_sub = sub >= 0 ? c->gpr[sub] : 0;
	memcpy(c->gpr, f.gpr, sizeof(f.gpr));
	c->gpr[tmp] = keep_tmp;
	c->gpr[GPR_RSP] = sub >= 0 ? f.gpr[sub] : keep_rsp;
	if (sub >= 0)
		c->gpr[sub] = keep_sub;
	c->rflags = (f.rflags & ~(uint64_t)CPU_FLAG_TF) | (c->rflags & CPU_FLAG_TF);
}

static uint64_t mask_width(uint64_t v, unsigned w)
{
	return w >= 8 ? v : v & ((1ull << (8 * w)) - 1);
}

/*
 * Old and new values of an atomic instruction, where it reveals them:
 * XCHG and XADD return the old value in their register, CMPXCHG* in the
 * accumulator (or it equalled the accumulator).  Intel SDM vol. 2.
 */
static int atomic_values(const struct insn *in, const struct cpu *before, const struct cpu *after,
			 uint8_t *old, uint8_t *new)
{
	unsigned w = in->width;
	ZydisMnemonic m = in->zi.mnemonic;
	int other = in->mem == 0 ? 1 : 0;

	if ((m == ZYDIS_MNEMONIC_XCHG || m == ZYDIS_MNEMONIC_XADD) && w <= 8 &&
	    in->op[other].type == ZYDIS_OPERAND_TYPE_REGISTER) {
		ZydisRegister r = in->op[other].reg.value;
		uint64_t o = insn_reg_read(after, r), b = insn_reg_read(before, r);
		uint64_t n = m == ZYDIS_MNEMONIC_XCHG ? b : mask_width(o + b, w);
		memcpy(old, &o, w);
		memcpy(new, &n, w);
		return 0;
	}
	if (m == ZYDIS_MNEMONIC_CMPXCHG && w <= 8) {
		ZydisRegister acc = ZYDIS_REGISTER_NONE, src = in->op[other].reg.value;
		for (int i = 0; i < in->zi.operand_count; i++)
			if (in->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
			    in->op[i].visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
			    insn_gpr_index(in->op[i].reg.value) == GPR_RAX)
				acc = in->op[i].reg.value;
		uint64_t o, n;
		if (after->rflags & CPU_FLAG_ZF) {
			o = insn_reg_read(before, acc);
			n = insn_reg_read(before, src);
		} else {
			o = insn_reg_read(after, acc);
			n = o;
		}
		memcpy(old, &o, w);
		memcpy(new, &n, w);
		return 0;
	}
	if (m == ZYDIS_MNEMONIC_CMPXCHG8B || m == ZYDIS_MNEMONIC_CMPXCHG16B) {
		unsigned h = w / 2;
		const struct cpu *src = (after->rflags & CPU_FLAG_ZF) ? before : after;
		uint64_t lo = src->gpr[GPR_RAX], hi = src->gpr[GPR_RDX];
		memcpy(old, &lo, h);
		memcpy(old + h, &hi, h);
		if (after->rflags & CPU_FLAG_ZF) {
			lo = before->gpr[GPR_RBX];
			hi = before->gpr[GPR_RCX];
			memcpy(new, &lo, h);
			memcpy(new + h, &hi, h);
		} else {
			memcpy(new, old, w);
		}
		return 0;
	}
	return -1;
}

/* signal context */
static enum emu_result complete_xol(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	struct emu_op op = {
		.addr = insn_mem_addr(in, c),
		.width = in->width,
		.nt = in->nt,
	};
	struct emu_plan plan;
	struct xol_prep x;
	uint8_t *buf = e->scratch;
	enum emu_result r;

	if (in->masked && (in->mode == MODE_LOAD || in->mode == MODE_STORE))
		op.bytemask = insn_byte_mask(
			in, emu_read_kreg(c, in->zi.avx.mask.reg - ZYDIS_REGISTER_K0));
	if (in->masked && !op.bytemask && (in->mode == MODE_LOAD || in->mode == MODE_STORE)) {
		/* every element disabled: no memory access at all */
		c->rip += in->len;
		return EMU_DONE;
	}
	r = emu_plan(e, &op, in->rd, in->wr, &plan);
	if (r == EMU_UNTRACED)
		return EMU_NOT_OURS;
	if (r)
		return r;
	if (in->mode == MODE_ATOMIC && plan.n != 1)
		return EMU_SLOW; /* split lock: single-step it */
	r = prepare_out_of_line(e, in, &x);
	if (r)
		return r;

	enum insn_mode mode = in->mode;
	if (mode == MODE_ATOMIC && !plan.p[0].ptr) {
		/* no alias to run it on: the caller serialises every access
		 * to such a region, so read, modify, write is atomic too */
		mode = MODE_RMW;
		op.flags |= MMS_AF_LOCKED;
	}
	switch (mode) {
	case MODE_LOAD:
		emu_do_read(e, in, c, &op, &plan, buf);
		run_out_of_line(e, in, c, &x, (uint64_t)buf);
		break;
	case MODE_STORE:
		memset(buf, 0, in->width);
		run_out_of_line(e, in, c, &x, (uint64_t)buf);
		emu_do_write(e, in, c, &op, &plan, buf);
		break;
	case MODE_RMW:
		emu_do_read(e, in, c, &op, &plan, buf);
		run_out_of_line(e, in, c, &x, (uint64_t)buf);
		emu_do_write(e, in, c, &op, &plan, buf);
		break;
	case MODE_ATOMIC: {
		struct cpu before = *c;
		uint8_t old[16], new[16];
		uint16_t fl = MMS_AF_LOCKED;

		run_out_of_line(e, in, c, &x, (uint64_t)plan.p[0].ptr);
		if (atomic_values(in, &before, c, old, new) < 0)
			fl |= MMS_AF_VALUE_UNKNOWN;
		emu_emit(e, in, &before, &plan.p[0], MMS_DIR_READ, fl,
			 (fl & MMS_AF_VALUE_UNKNOWN) ? NULL : old);
		emu_emit(e, in, &before, &plan.p[0], MMS_DIR_WRITE, fl,
			 (fl & MMS_AF_VALUE_UNKNOWN) ? NULL : new);
		break;
	}
	}
	c->rip += in->len;
	return EMU_DONE;
}

/* signal context */
enum emu_result emu_complete(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	switch (in->cls) {
	case INSN_XOL:
		return complete_xol(e, in, c);
	case INSN_STRING:
		return emu_string(e, in, c);
	case INSN_PUSH_MEM:
	case INSN_POP_MEM:
	case INSN_BRANCH_MEM:
		return emu_stack(e, in, c);
	case INSN_NOMEM:
		return EMU_NOT_OURS;
	case INSN_UNSUPPORTED:
	default:
		return EMU_SLOW;
	}
}
