/* SPDX-License-Identifier: MIT */
/*
 * Locked read-modify-writes on a region's alias, and their values.  Each
 * must stay one atomic access of the object (other threads and processes,
 * and a device, see the program's atomicity), so the old value comes from
 * an atomic instruction that returns it:
 *
 *  - XCHG, XADD, CMPXCHG, CMPXCHG8B/16B return it themselves: they run on
 *    the alias as they are.
 *  - ADD, SUB, INC, DEC, ADC, SBB store old + d (mod 2^width): one LOCK
 *    XADD of d is the same single atomic access and returns old.  d is what
 *    the instruction leaves in a zeroed scratch; the instruction then runs
 *    once more on a scratch copy of old, which gives exactly the flags it
 *    would have set (INC and DEC keep CF, ADC and SBB use it).
 *  - AND, OR, XOR, NOT, NEG, BTS, BTR, BTC: no instruction returns old.
 *    On RAM-backed regions: read old, run the instruction on a scratch copy
 *    (new value and flags), LOCK CMPXCHG old -> new, and again from the
 *    value CMPXCHG found if someone changed it meanwhile; only the winning
 *    attempt is recorded.  A device region (REGION_DEVICE) must never be
 *    read more than the program reads it: there the instruction runs on
 *    the alias as it is and the values stay unknown.
 *
 * signal context.
 */
#include <string.h>

#include "engine/copy.h"
#include "engine/emu-internal.h"
#include "mmscope/trace-format.h"

/* Compare-exchange attempts before giving up on values (a word other
 * threads change without pause): the instruction then runs as it is.
 * 1000 was too few on a 2-core VM with another thread adding to the word
 * in a tight loop (test_atomic's contention test failed 4 runs in 5, on
 * the old build too): every attempt lost.  The bound stays finite. */
#define LOCK_CAS_TRIES 100000

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

/* LOCK XADD: adds v, returns the old value. */
static uint64_t lock_xadd(volatile void *p, uint64_t v, unsigned w)
{
	switch (w) {
	case 1: {
		uint8_t b = (uint8_t)v;
		__asm__ volatile("lock xaddb %0, %1"
				 : "+q"(b), "+m"(*(volatile uint8_t *)p)
				 :
				 : "memory", "cc");
		return b;
	}
	case 2: {
		uint16_t h = (uint16_t)v;
		__asm__ volatile("lock xaddw %0, %1"
				 : "+r"(h), "+m"(*(volatile uint16_t *)p)
				 :
				 : "memory", "cc");
		return h;
	}
	case 4: {
		uint32_t l = (uint32_t)v;
		__asm__ volatile("lock xaddl %0, %1"
				 : "+r"(l), "+m"(*(volatile uint32_t *)p)
				 :
				 : "memory", "cc");
		return l;
	}
	default:
		__asm__ volatile("lock xaddq %0, %1"
				 : "+r"(v), "+m"(*(volatile uint64_t *)p)
				 :
				 : "memory", "cc");
		return v;
	}
}

/* LOCK CMPXCHG *old -> new; on failure *old is the value found. */
static bool lock_cmpxchg(volatile void *p, uint64_t *old, uint64_t new, unsigned w)
{
	bool ok;

	switch (w) {
	case 1: {
		uint8_t a = (uint8_t)*old;
		__asm__ volatile("lock cmpxchgb %3, %1"
				 : "+a"(a), "+m"(*(volatile uint8_t *)p), "=@ccz"(ok)
				 : "q"((uint8_t) new)
				 : "memory");
		*old = a;
		break;
	}
	case 2: {
		uint16_t a = (uint16_t)*old;
		__asm__ volatile("lock cmpxchgw %3, %1"
				 : "+a"(a), "+m"(*(volatile uint16_t *)p), "=@ccz"(ok)
				 : "r"((uint16_t) new)
				 : "memory");
		*old = a;
		break;
	}
	case 4: {
		uint32_t a = (uint32_t)*old;
		__asm__ volatile("lock cmpxchgl %3, %1"
				 : "+a"(a), "+m"(*(volatile uint32_t *)p), "=@ccz"(ok)
				 : "r"((uint32_t) new)
				 : "memory");
		*old = a;
		break;
	}
	default:
		__asm__ volatile("lock cmpxchgq %3, %1"
				 : "+a"(*old), "+m"(*(volatile uint64_t *)p), "=@ccz"(ok)
				 : "r"(new)
				 : "memory");
		break;
	}
	return ok;
}

static void emit_pair(struct emu_ctx *e, const struct insn *in, const struct cpu *c,
		      const struct emu_piece *p, const uint8_t *old, const uint8_t *new)
{
	uint16_t fl = MMS_AF_LOCKED | (old ? 0 : MMS_AF_VALUE_UNKNOWN);

	emu_emit(e, in, c, p, MMS_DIR_READ, fl, 1, old);
	emu_emit(e, in, c, p, MMS_DIR_WRITE, fl, 1, new);
}

/* The instruction on a scratch copy of v: its result and, in *t, the
 * registers and flags it leaves. */
static uint64_t run_on_copy(struct emu_ctx *e, const struct insn *in, struct cpu *t,
			    const struct xol_prep *x, uint64_t v)
{
	uint64_t r = 0;

	memcpy(e->scratch, &v, 8);
	emu_xol_run(e, in, t, x, (uint64_t)e->scratch);
	memcpy(&r, e->scratch, in->width);
	return r;
}

static void lock_add(struct emu_ctx *e, const struct insn *in, struct cpu *c,
		     const struct emu_piece *p, const struct xol_prep *x)
{
	unsigned w = in->width;
	struct cpu t = *c;
	uint64_t d, old, new;

	d = run_on_copy(e, in, &t, x, 0);
	old = mask_width(lock_xadd(p->ptr, d, w), w);
	new = mask_width(old + d, w); /* what XADD stored */
	t = *c;
	run_on_copy(e, in, &t, x, old); /* for the flags */
	emit_pair(e, in, c, p, (const uint8_t *)&old, (const uint8_t *)&new);
	*c = t;
}

/* 0, or -1 when other writers kept winning (nothing stored then) */
static int lock_cas(struct emu_ctx *e, const struct insn *in, struct cpu *c,
		    const struct emu_piece *p, const struct xol_prep *x)
{
	unsigned w = in->width;
	uint64_t old = copy_load_once(p->ptr, w), new;
	struct cpu t;

	for (int i = 0; i < LOCK_CAS_TRIES; i++) {
		t = *c;
		new = run_on_copy(e, in, &t, x, old);
		if (lock_cmpxchg(p->ptr, &old, new, w)) {
			emit_pair(e, in, c, p, (const uint8_t *)&old, (const uint8_t *)&new);
			*c = t;
			return 0;
		}
	}
	return -1;
}

/* signal context */
enum emu_result emu_atomic(struct emu_ctx *e, const struct insn *in, struct cpu *c,
			   const struct emu_piece *p, const struct xol_prep *x)
{
	struct cpu before = *c;
	uint8_t old[16], new[16];

	if (in->width <= 8 && in->lock == INSN_LOCK_ADD) {
		lock_add(e, in, c, p, x);
		return EMU_DONE;
	}
	if (in->width <= 8 && in->lock == INSN_LOCK_CAS && !(p->r.flags & REGION_DEVICE) &&
	    lock_cas(e, in, c, p, x) == 0)
		return EMU_DONE;
	emu_xol_run(e, in, c, x, (uint64_t)p->ptr);
	if (atomic_values(in, &before, c, old, new) < 0)
		emit_pair(e, in, &before, p, NULL, NULL);
	else
		emit_pair(e, in, &before, p, old, new);
	return EMU_DONE;
}
