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
 * alias so they stay atomic against other threads and processes (atomic.c
 * finds their values).  Strings, stack operands and XLAT are in strop.c,
 * gathers and scatters in vsib.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "engine/copy.h"
#include "engine/icache.h"
#include "engine/emu-internal.h"
#include "engine/xol.h"
#include "engine/xstate.h"
#include "mmscope/trace-format.h"
#include "util/sys.h"

void emu_init(void)
{
	xstate_init();
}

/* signal context */
uint64_t emu_read_kreg(const struct cpu *c, int k)
{
	if (k <= 0 || k > 7)
		return k == 0 ? ~0ull : 0;
	return xstate_k_read(c, k);
}

/* signal context */
enum emu_result emu_plan(const struct emu_ctx *e, const struct emu_op *op, bool rd, bool wr,
			 struct emu_plan *plan)
{
	uint64_t a = op->addr, end = op->addr + op->width;

	plan->n = 0;
	plan->traced = 0;
	plan->forbidden = 0;
	while (a < end) {
		struct emu_piece *p = &plan->p[plan->n];
		uint64_t hi;

		if (plan->n == EMU_PIECES_MAX)
			return EMU_SLOW;
		if (region_find(e->regions, a, &p->r) == 0) {
			if ((rd && !(p->r.prot & PROT_READ)) || (wr && !(p->r.prot & PROT_WRITE))) {
				plan->forbidden = a;
				return EMU_NOT_OURS;
			}
			hi = end < p->r.end ? end : p->r.end;
			p->ptr = p->r.alias ? p->r.alias + (a - p->r.start) : NULL;
			p->traced = true;
			plan->traced++;
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
	if (plan->traced && plan->n > 1 && op->bytemask)
		return EMU_SLOW;
	return EMU_DONE;
}

/* signal context */
void emu_emit(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
	      const struct emu_piece *p, int dir, uint16_t flags, uint32_t run_left,
	      const uint8_t *value)
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
		.run_left = run_left ? run_left : 1,
		.value = value,
	};
	if (e->record)
		e->record(e->arg, in, c, &a);
}

/* signal context */
uint16_t emu_piece_flags(const struct emu_op *op, const struct emu_plan *plan)
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
void emu_piece_in(struct emu_ctx *e, const struct emu_piece *p, uint8_t *dst, uint64_t bytemask,
		  bool nt)
{
	if (p->traced && !p->ptr)
		piece_peek(e, p, dst, bytemask);
	else
		copy_in(dst, p->ptr, p->len, bytemask, nt);
}

/* signal context */
void emu_piece_out(struct emu_ctx *e, const struct emu_piece *p, const uint8_t *src,
		   uint64_t bytemask, bool nt)
{
	if (p->traced && !p->ptr)
		piece_poke(e, p, src, bytemask);
	else
		copy_out(p->ptr, src, p->len, bytemask, nt);
}

/* signal context */
void emu_do_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		 const struct emu_op *op, const struct emu_plan *plan, uint8_t *buf)
{
	unsigned off = 0;

	for (int i = 0; i < plan->n; i++) {
		const struct emu_piece *p = &plan->p[i];
		emu_piece_in(e, p, buf + off, op->bytemask, op->nt && plan->n == 1);
		if (p->traced)
			emu_emit(e, in, c, p, MMS_DIR_READ, emu_piece_flags(op, plan), op->run_left,
				 buf + off);
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
		emu_piece_out(e, p, buf + off, op->bytemask, op->nt && plan->n == 1);
		if (p->traced)
			emu_emit(e, in, c, p, MMS_DIR_WRITE, emu_piece_flags(op, plan),
				 op->run_left, buf + off);
		off += p->len;
	}
}

/* signal context */
enum emu_result emu_read(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
			 uint64_t addr, unsigned width, uint16_t flags, uint32_t run_left,
			 uint8_t *buf)
{
	struct emu_op op = { .addr = addr, .width = width, .flags = flags, .run_left = run_left };
	struct emu_plan plan;
	enum emu_result r = emu_plan(e, &op, true, false, &plan);

	if (r)
		return r;
	if (!plan.traced) {
		/* untraced memory: the program's own, plain access */
		memcpy(buf, (const void *)addr, width);
		return EMU_DONE;
	}
	emu_do_read(e, in, c, &op, &plan, buf);
	return EMU_DONE;
}

/* signal context */
enum emu_result emu_write(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
			  uint64_t addr, unsigned width, uint16_t flags, uint32_t run_left,
			  const uint8_t *buf)
{
	struct emu_op op = { .addr = addr, .width = width, .flags = flags, .run_left = run_left };
	struct emu_plan plan;
	enum emu_result r = emu_plan(e, &op, false, true, &plan);

	if (r)
		return r;
	if (!plan.traced) {
		memcpy((void *)addr, buf, width);
		return EMU_DONE;
	}
	emu_do_write(e, in, c, &op, &plan, buf);
	return EMU_DONE;
}

/* signal context: process_vm_readv/writev on ourselves move the bytes
 * exactly once and fail with EFAULT where the program could not access
 * them (they honour the mapping's protection); a kernel or sandbox that
 * refuses the call leaves the plain access */
static int untraced_vm(uint64_t addr, void *buf, unsigned len, uint64_t *bad, bool out)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };
	long n = sys_call6(out ? SYS_process_vm_writev : SYS_process_vm_readv, sys_getpid(),
			   (long)&local, 1, (long)&remote, 1, 0);

	if (n == (long)len)
		return 0;
	if (n == -ENOSYS || n == -EPERM) {
		if (out)
			memcpy((void *)addr, buf, len);
		else
			memcpy(buf, (const void *)addr, len);
		return 0;
	}
	*bad = addr + (n > 0 ? (uint64_t)n : 0);
	return -EFAULT;
}

/* signal context */
int emu_untraced_in(uint64_t addr, void *buf, unsigned len, uint64_t *bad)
{
	return untraced_vm(addr, buf, len, bad, false);
}

/* signal context */
int emu_untraced_out(uint64_t addr, const void *buf, unsigned len, uint64_t *bad)
{
	return untraced_vm(addr, (void *)buf, len, bad, true);
}

/* signal context */
enum emu_result emu_xol_prepare(struct emu_ctx *e, const struct insn *in, struct xol_prep *x)
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

/* signal context */
int emu_prepare(struct icache_entry *ce)
{
	struct emu_ctx e = { .cached = ce, .code = ce->xcode };
	struct xol_prep x;

	ce->code_len = 0;
	if (ce->in.cls != INSN_XOL || emu_xol_prepare(&e, &ce->in, &x) != EMU_DONE || !ce->code_len)
		return -EINVAL;
	return 0;
}

/* signal context */
void emu_xol_run(struct emu_ctx *e, const struct insn *in, struct cpu *c, const struct xol_prep *x,
		 uint64_t target)
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

/* signal context */
static enum emu_result complete_xol(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	struct emu_op op = {
		.addr = insn_mem_addr(in, c),
		.width = in->width,
		.nt = in->nt,
	};
	bool vector_mask = in->masked && (in->mode == MODE_LOAD || in->mode == MODE_STORE);
	struct emu_plan plan;
	struct xol_prep x;
	uint8_t *buf = e->scratch;
	enum emu_result r;

	if (vector_mask) {
		op.bytemask = insn_byte_mask(
			in, emu_read_kreg(c, in->zi.avx.mask.reg - ZYDIS_REGISTER_K0));
		if (!op.bytemask) {
			/* every element disabled: no memory access at all, but
			 * the register result is still the instruction's (a
			 * {z} load clears the destination, an EVEX.128/256
			 * load its upper bits): run it on scratch, which it
			 * will not touch */
			r = emu_xol_prepare(e, in, &x);
			if (r)
				return r;
			emu_xol_run(e, in, c, &x, (uint64_t)buf);
			c->rip += in->len;
			return EMU_DONE;
		}
	}
	r = emu_plan(e, &op, in->rd, in->wr, &plan);
	if (r)
		return r;
	if (!plan.traced)
		return EMU_NOT_OURS;
	if (in->mode == MODE_ATOMIC && plan.n != 1)
		return EMU_SLOW; /* split lock: single-step it */
	r = emu_xol_prepare(e, in, &x);
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
		emu_xol_run(e, in, c, &x, (uint64_t)buf);
		break;
	case MODE_STORE:
		memset(buf, 0, in->width);
		emu_xol_run(e, in, c, &x, (uint64_t)buf);
		emu_do_write(e, in, c, &op, &plan, buf);
		break;
	case MODE_RMW:
		emu_do_read(e, in, c, &op, &plan, buf);
		emu_xol_run(e, in, c, &x, (uint64_t)buf);
		emu_do_write(e, in, c, &op, &plan, buf);
		break;
	case MODE_ATOMIC:
		r = emu_atomic(e, in, c, &plan.p[0], &x);
		if (r)
			return r;
		break;
	}
	c->rip += in->len;
	return EMU_DONE;
}

/* signal context */
enum emu_result emu_complete(struct emu_ctx *e, const struct insn *in, struct cpu *c)
{
	e->fault_addr = 0;
	switch (in->cls) {
	case INSN_XOL:
		return complete_xol(e, in, c);
	case INSN_STRING:
		return emu_string(e, in, c);
	case INSN_PUSH_MEM:
	case INSN_POP_MEM:
	case INSN_BRANCH_MEM:
		return emu_stack(e, in, c);
	case INSN_XLAT:
		return emu_xlat(e, in, c);
	case INSN_VSIB:
		return emu_vsib(e, in, c);
	case INSN_NOMEM:
		return EMU_NOT_OURS;
	case INSN_UNSUPPORTED:
	default:
		return EMU_SLOW;
	}
}
