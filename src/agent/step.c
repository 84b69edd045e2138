/* SPDX-License-Identifier: MIT */
/*
 * The slow path for what the engine cannot complete: park every other
 * thread (park.c), re-open the faulting page, single-step the
 * instruction with TF, re-arm, release.  While the page is open no other
 * thread runs, so nothing slips past untraced (the mmiotrace SMP lesson).
 * The access is recorded with MMS_AF_UNKNOWN_INSN and an unknown value.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>

#include "agent/agent.h"
#include "agent/park.h"
#include "agent/record.h"
#include "engine/xol.h"
#include "mmscope/trace-format.h"
#include "util/proc.h"
#include "util/sys.h"

/* The thread whose instruction runs under the trap flag now, 0 if none:
 * for a debugger, which sees that trap before the program does
 * (share/mmscope.gdb hands it on only when it is this thread's). */
MMS_EXPORT volatile int mmscope_stepping_tid;

/* signal context: open the armed page(s) holding addr for this step */
static int open_page(struct thread_state *t, uint64_t addr)
{
	struct region r;
	uint64_t lo = addr & ~4095ull, hi = lo + 4096;

	if (region_find(&agent.regions, addr, &r) < 0 || t->step_nranges == 4)
		return -1;
	if (sys_mprotect((void *)lo, 4096, r.prot) < 0)
		return -1;
	t->step_ranges[t->step_nranges][0] = lo;
	t->step_ranges[t->step_nranges][1] = hi;
	t->step_nranges++;
	return 0;
}

/* signal context: a MOV between memory and a general register or an
 * immediate reveals its value: a store's now, a load's (*load) once its
 * destination register is written */
static bool mov_value(const struct insn *in, const struct cpu *c, uint8_t *value,
		      ZydisRegister *load)
{
	const ZydisDecodedOperand *o;
	uint64_t v;

	*load = ZYDIS_REGISTER_NONE;
	if (!in || in->cls != INSN_XOL || in->locked || in->width > 8 || in->mem < 0 ||
	    in->zi.operand_count_visible != 2)
		return false;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX:
	case ZYDIS_MNEMONIC_MOVSXD:
		break;
	default:
		return false;
	}
	o = &in->op[in->mem == 0 ? 1 : 0];
	if (in->wr && o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		v = o->imm.value.u;
	else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && insn_gpr_index(o->reg.value) >= 0)
		v = insn_reg_read(c, o->reg.value);
	else
		return false;
	if (in->rd) {
		*load = o->reg.value;
		return false;
	}
	memcpy(value, &v, 8);
	return true;
}

/* signal context */
void step_begin(struct thread_state *t, void *ucv, const struct region *r, uint64_t addr,
		const struct insn *in, const struct cpu *c, enum step_why why)
{
	ucontext_t *uc = ucv;

	park_begin(t->tid);
	t->step_nranges = 0;
	t->stepping = 1;
	t->step_region = r->id;
	t->step_addr = addr;
	t->step_pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	t->step_len = in ? in->len : 0;
	if (in)
		memcpy(t->step_insn, in->bytes, in->len);
	t->step_width = in ? in->width : 0;
	t->step_dir = !in ? 0 : in->wr ? MMS_DIR_WRITE : MMS_DIR_READ;
	/* a decoded record only for one memory operand: a string
	 * instruction's source and destination differ, and the faulting
	 * address names only one of them */
	if (why == STEP_PROGRAM_BP && (!in || in->cls != INSN_XOL))
		why = in ? STEP_ENGINE : STEP_UNDECODED;
	t->step_why = (uint8_t)why;
	t->step_rmw = in && in->rd && in->wr;
	t->step_locked = in && in->locked;
	t->step_load_reg = ZYDIS_REGISTER_NONE;
	t->step_value_known =
		why == STEP_PROGRAM_BP && mov_value(in, c, t->step_value, &t->step_load_reg);
	/* the program's breakpoints count natively during the step; their
	 * counts now tell afterwards whether one fired */
	t->step_nbps = hwshare_snap(t->tid, t->step_bps, 4);
	t->step_saved_tf = uc->uc_mcontext.gregs[REG_EFL] & 0x100;
	if (open_page(t, addr) < 0) {
		t->stepping = 0;
		park_end();
		return;
	}
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
	__atomic_store_n(&mmscope_stepping_tid, t->tid, __ATOMIC_RELEASE);
	/* no asynchronous handler may run while the page is open */
	t->step_saved_mask = uc->uc_sigmask;
	signals_async_set(&uc->uc_sigmask);
}

/* signal context: the stepped instruction touched another armed page */
int step_on_fault(struct thread_state *t, void *uc, uint64_t addr)
{
	return open_page(t, addr);
}

/* signal context: close the pages opened for the step */
static void close_pages(struct thread_state *t)
{
	for (int i = 0; i < t->step_nranges; i++) {
		struct region pr;
		int view = region_find(&agent.regions, t->step_ranges[i][0], &pr) == 0
				   ? agent_view_prot(&pr)
				   : PROT_NONE;
		sys_mprotect((void *)t->step_ranges[i][0],
			     t->step_ranges[i][1] - t->step_ranges[i][0], view);
	}
	t->step_nranges = 0;
}

/* signal context: the stepped access, for watches and the trace */
static void record_step(struct thread_state *t)
{
	struct region r;

	if (region_find(&agent.regions, t->step_addr, &r) == 0 && (r.flags & REGION_WATCH))
		watch_on_stepped(t, t->step_pc, t->step_addr, t->step_width, t->step_dir);
	if (region_find(&agent.regions, t->step_addr, &r) == 0 && (r.flags & REGION_TRACE)) {
		struct emu_access a = {
			.addr = t->step_addr,
			.offset = t->step_addr - r.base,
			.region = r.id,
			.width = t->step_width,
			.dir = t->step_dir,
			.flags = MMS_AF_UNKNOWN_INSN | MMS_AF_VALUE_UNKNOWN,
			.rflags = r.flags,
		};
		if (t->step_why == STEP_PROGRAM_BP) {
			/* decoded: only the value may be unknown; a
			 * read-modify-write is a read and a write, as the
			 * engine records it */
			a.flags = (t->step_value_known ? 0 : MMS_AF_VALUE_UNKNOWN) |
				  (t->step_locked ? MMS_AF_LOCKED : 0);
			a.value = t->step_value_known ? t->step_value : NULL;
			if (t->step_rmw) {
				a.dir = MMS_DIR_READ;
				rec_access(t, t->step_pc, t->step_insn, t->step_len, &a);
				a.dir = MMS_DIR_WRITE;
			}
		}
		rec_access(t, t->step_pc, t->step_insn, t->step_len, &a);
	}
}

/* signal context: the step is over */
int step_on_trap(struct thread_state *t, void *ucv, siginfo_t *perf)
{
	ucontext_t *uc = ucv;

	close_pages(t);
	__atomic_store_n(&mmscope_stepping_tid, 0, __ATOMIC_RELEASE);
	uc->uc_mcontext.gregs[REG_EFL] =
		(uc->uc_mcontext.gregs[REG_EFL] & ~0x100) | t->step_saved_tf;
	t->stepping = 0;
	uc->uc_sigmask = t->step_saved_mask;
	if (t->step_load_reg != ZYDIS_REGISTER_NONE && t->step_why == STEP_PROGRAM_BP) {
		struct cpu c;
		uint64_t v;
		fault_cpu_from_uc(&c, uc);
		v = insn_reg_read(&c, t->step_load_reg);
		memcpy(t->step_value, &v, 8);
		t->step_value_known = true;
		t->step_load_reg = ZYDIS_REGISTER_NONE;
	}
	record_step(t);
	bool fired = t->step_nbps && hwshare_fired(t->step_bps, t->step_nbps, perf);
	park_end();
	return fired;
}

/* ---- the slow path without the trap flag ---- */

/*
 * Can the instruction run out of line, inside the fault handler, on the
 * real (opened) page?  Then no single-step trap is needed: a debugger
 * attached with ptrace sees every SIGTRAP, and gdb takes a trap it did
 * not ask for as its own stop (issue 7, C.14).  Only when the run in the
 * handler is exactly the program's: one known memory range, no stack or
 * RIP-relative addressing (the code runs elsewhere, on another stack),
 * no branch, no REP (its range is not known up front), and a protection
 * that lets the access through (a fault inside the handler would kill
 * the program instead of giving it its SIGSEGV).
 */
static bool out_of_line_ok(const struct insn *in, const struct region *r)
{
	const ZydisDecodedOperand *m;

	if (in->cls != INSN_UNSUPPORTED || in->mem < 0 || in->width == 0 || in->width > 64)
		return false;
	if (in->zi.attributes &
	    (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE))
		return false;
	if (in->zi.meta.category == ZYDIS_CATEGORY_COND_BR ||
	    in->zi.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
	    in->zi.meta.category == ZYDIS_CATEGORY_CALL ||
	    in->zi.meta.category == ZYDIS_CATEGORY_RET)
		return false;
	if (in->rsp_operand || (in->gprs & (1u << GPR_RSP)))
		return false;
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->op[i];
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.base == ZYDIS_REGISTER_RIP)
			return false;
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (o->reg.value == ZYDIS_REGISTER_RSP || o->reg.value == ZYDIS_REGISTER_RIP))
			return false;
	}
	m = &in->op[in->mem];
	if ((m->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && !(r->prot & PROT_WRITE))
		return false;
	if ((m->actions & ZYDIS_OPERAND_ACTION_MASK_READ) && !(r->prot & PROT_READ))
		return false;
	return true;
}

/* signal context */
int step_out_of_line(struct thread_state *t, struct cpu *c, const struct region *r, uint64_t addr,
		     const struct insn *in)
{
	struct xol_frame f;

	if (!out_of_line_ok(in, r))
		return -EOPNOTSUPP;
	park_begin(t->tid);
	t->step_nranges = 0;
	t->step_region = r->id;
	t->step_addr = addr;
	t->step_pc = c->rip;
	t->step_len = in->len;
	memcpy(t->step_insn, in->bytes, in->len);
	t->step_width = in->width;
	t->step_dir = in->wr ? MMS_DIR_WRITE : MMS_DIR_READ;
	t->step_why = STEP_ENGINE;
	/* every traced page the access can touch: it starts at or before
	 * the faulting address, which is the first traced byte it reached */
	for (uint64_t pg = addr & ~4095ull; pg < addr + in->width; pg += 4096) {
		struct region pr;
		if (region_find(&agent.regions, pg, &pr) < 0)
			continue;
		if (open_page(t, pg) < 0) {
			close_pages(t);
			park_end();
			return -EAGAIN;
		}
	}
	memcpy(t->code, in->bytes, in->len);
	t->code[in->len] = 0xc3; /* RET back into xol_run */
	memcpy(f.gpr, c->gpr, sizeof(f.gpr));
	f.rflags = c->rflags;
	f.code = t->code;
	f.xsave = in->uses_vector ? c->xsave : NULL;
	f.xmask = c->xfeatures & 0xe7; /* as emu_xol_run: x87, SSE, AVX, AVX-512 */
	xol_run(&f);
	uint64_t rsp = c->gpr[GPR_RSP];
	memcpy(c->gpr, f.gpr, sizeof(c->gpr));
	c->gpr[GPR_RSP] = rsp;
	c->rflags = (f.rflags & ~0x100ull) | (c->rflags & 0x100ull);
	c->rip += in->len;
	close_pages(t);
	record_step(t);
	park_end();
	return 0;
}
