/* SPDX-License-Identifier: MIT */
/*
 * The fast way through a patched site (see hot.h): a plain MOV, MOVZX,
 * MOVSX or MOVSXD of 1, 2, 4 or 8 bytes between a general register (or
 * an immediate) and memory is completed here, from the general
 * registers alone, before hot-common.S saves any vector state.
 *
 * So nothing on this path may touch an x87, SSE, AVX or mask register:
 * this file, the recorder, the stream, the region table and the shadow
 * register file are built with -mgeneral-regs-only (the Makefile's
 * VECTOR_FREE list) and call nothing of the C library but clock_gettime,
 * which goes straight to the vDSO; tests/e2e/test_hot.py disassembles
 * the call graph of mms_hot_fast to hold us to it.
 *
 * Everything else (another form, an access that straddles a region's
 * end, a watched page, no alias, a hardware breakpoint anywhere, a
 * thread the debugger steps) goes on to mms_hot_enter, which can do all
 * the fault path can.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "agent/record.h"
#include "engine/copy.h"
#include "mmscope/trace-format.h"

enum fast_kind { FAST_NONE, FAST_LOAD, FAST_STORE, FAST_STORE_IMM };

#define FAST_RIP 16 /* fast.base: rip-relative */

static int gpr_of(ZydisRegister r, bool *high8)
{
	*high8 = r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_BH || r == ZYDIS_REGISTER_CH ||
		 r == ZYDIS_REGISTER_DH;
	return insn_gpr_index(r);
}

static unsigned reg_bytes(ZydisRegister r)
{
	return ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r) / 8;
}

/* the memory operand, if the fast path can compute its address */
static bool fast_mem(struct hot_fast *p, const ZydisDecodedOperand *m, unsigned address_width)
{
	ZydisRegister seg = m->mem.segment;
	bool high8;

	if (address_width != 64 || m->type != ZYDIS_OPERAND_TYPE_MEMORY ||
	    seg == ZYDIS_REGISTER_FS || seg == ZYDIS_REGISTER_GS)
		return false;
	p->disp = m->mem.disp.value;
	p->scale = m->mem.scale ? m->mem.scale : 1;
	if (m->mem.base == ZYDIS_REGISTER_RIP)
		p->base = FAST_RIP;
	else if (m->mem.base == ZYDIS_REGISTER_NONE)
		p->base = -1;
	else if ((p->base = (int8_t)gpr_of(m->mem.base, &high8)) < 0 || reg_bytes(m->mem.base) != 8)
		return false;
	if (m->mem.index == ZYDIS_REGISTER_NONE)
		p->index = -1;
	else if ((p->index = (int8_t)gpr_of(m->mem.index, &high8)) < 0 ||
		 reg_bytes(m->mem.index) != 8)
		return false;
	return true;
}

static bool fast_reg(struct hot_fast *p, const ZydisDecodedOperand *o)
{
	bool high8;
	int g;

	if (o->type != ZYDIS_OPERAND_TYPE_REGISTER)
		return false;
	g = gpr_of(o->reg.value, &high8);
	if (g < 0 || high8)
		return false;
	p->reg = (uint8_t)g;
	p->reg_size = (uint8_t)reg_bytes(o->reg.value);
	return true;
}

void hot_fast_plan(struct hot_fast *p, const struct insn *in)
{
	const ZydisDecodedOperand *o = in->op;
	ZydisMnemonic mn = in->zi.mnemonic;
	struct hot_fast f = { .kind = FAST_NONE, .width = in->width };

	*p = f;
	if (in->cls != INSN_XOL || in->locked || in->nt || in->masked || in->uses_vector ||
	    (in->width != 1 && in->width != 2 && in->width != 4 && in->width != 8) ||
	    in->zi.operand_count_visible != 2)
		return;
	if (mn != ZYDIS_MNEMONIC_MOV && mn != ZYDIS_MNEMONIC_MOVZX && mn != ZYDIS_MNEMONIC_MOVSX &&
	    mn != ZYDIS_MNEMONIC_MOVSXD)
		return;
	if (in->mode == MODE_LOAD && in->mem == 1 && fast_mem(&f, &o[1], in->zi.address_width) &&
	    fast_reg(&f, &o[0])) {
		f.kind = FAST_LOAD;
		f.sign = mn == ZYDIS_MNEMONIC_MOVSX || mn == ZYDIS_MNEMONIC_MOVSXD;
	} else if (in->mode == MODE_STORE && mn == ZYDIS_MNEMONIC_MOV && in->mem == 0 &&
		   fast_mem(&f, &o[0], in->zi.address_width)) {
		if (o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			f.kind = FAST_STORE_IMM;
			f.imm = o[1].imm.is_signed ? (uint64_t)o[1].imm.value.s : o[1].imm.value.u;
		} else if (fast_reg(&f, &o[1]) && f.reg_size == f.width) {
			f.kind = FAST_STORE;
		}
	}
	if (f.kind != FAST_NONE && (f.kind != FAST_LOAD || f.reg_size >= f.width))
		*p = f;
}

/* ---- the path itself: general registers only from here ---- */

static uint64_t gpr(const struct hot_frame *f, int i)
{
	return i == GPR_RSP ? (uint64_t)(f + 1) : f->gpr[i];
}

static uint64_t ea_of(const struct hot_frame *f, const struct hot_site *s)
{
	const struct hot_fast *p = &s->fast;
	uint64_t ea = (uint64_t)p->disp;

	if (p->base == FAST_RIP)
		ea += s->pc + s->len;
	else if (p->base >= 0)
		ea += gpr(f, p->base);
	if (p->index >= 0)
		ea += gpr(f, p->index) * p->scale;
	return ea;
}

static uint64_t width_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* the loaded value into the destination register, as the CPU writes it:
 * a 32-bit destination clears the upper half, 8 and 16 bits merge */
static void load_into(struct hot_frame *f, const struct hot_fast *p, uint64_t v)
{
	uint64_t *r = &f->gpr[p->reg];
	unsigned bits = 8u * p->width;

	if (p->sign && bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~width_mask(p->width);
	if (p->reg_size >= 8)
		*r = v;
	else if (p->reg_size == 4)
		*r = (uint32_t)v;
	else
		*r = (*r & ~width_mask(p->reg_size)) | (v & width_mask(p->reg_size));
}

static void fence(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* the access of site s on the registers in f, or false */
static bool fast(struct hot_frame *f, struct hot_site *s, struct thread_state *t)
{
	const struct hot_fast *p = &s->fast;
	uint64_t addr = ea_of(f, s), v;
	bool wr = p->kind != FAST_LOAD;
	struct region r;

	if (region_find(&agent.regions, addr, &r) < 0 || !r.alias || (r.flags & REGION_WATCH) ||
	    addr + p->width > r.end || addr + p->width < addr ||
	    !(r.prot & (wr ? PROT_WRITE : PROT_READ)))
		return false;

	volatile uint8_t *ptr = r.alias + (addr - r.start);
	if (p->kind == FAST_LOAD) {
		v = copy_load_once(ptr, p->width);
	} else {
		v = (p->kind == FAST_STORE ? f->gpr[p->reg] : p->imm) & width_mask(p->width);
		copy_store_once(ptr, p->width, v);
	}
	mms_hot_tls.accessed = 1; /* see hot_abandon */
	fence();
	if (p->kind == FAST_LOAD)
		load_into(f, p, v);
	if (r.flags & REGION_TRACE) {
		struct emu_access a = {
			.addr = addr,
			.offset = addr - r.base,
			.region = r.id,
			.width = p->width,
			.dir = wr ? MMS_DIR_WRITE : MMS_DIR_READ,
			.rflags = r.flags,
			.run_left = 1,
			.value = (const uint8_t *)&v, /* little-endian: the low bytes */
		};
		rec_access(t, s->pc, s->orig, s->len, &a);
	}
	return true;
}

/* Called by hot-common.S with only the general registers saved (frame
 * f), the thread HOT_BUSY: 1 if the access is complete (the thread
 * HOT_DONE, f->cont past the site), 0 to go the whole way. */
int mms_hot_fast(struct hot_frame *f)
{
	struct hot_site *s = &hot_sites[f->index];
	struct thread_state *t;

	if (s->fast.kind == FAST_NONE || !agent.active || s->state != HOT_PATCHED ||
	    (f->rflags & CPU_FLAG_TF) || hwshare_any())
		return 0;
	t = thread_current();
	if (!t || t->stepping || !fast(f, s, t))
		return 0;
	f->cont = s->pc + s->len;
	s->hits++;
	s->fast_hits++;
	hot_done();
	return 1;
}
