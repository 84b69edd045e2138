/* SPDX-License-Identifier: MIT */
/*
 * The fault path: one place decides whether a SIGSEGV or SIGTRAP is ours.
 * Ours: an access to an armed region (completed by the engine, or by the
 * single-step slow path) and the trap that ends a single step.  Anything
 * else goes to the program's own handler or default action unchanged.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>

#include "agent/agent.h"
#include "agent/mem.h"
#include "agent/debugsock.h"
#include "agent/hot.h"
#include "agent/park.h"
#include "agent/observe.h"
#include "agent/record.h"
#include "engine/emulate.h"
#include "mmscope/trace-format.h"
#include "util/sys.h"

/* ucontext gregs index of each enum cpu_gpr (sys/ucontext.h) */
const int fault_greg_of[GPR_COUNT] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif

/* signal context */
void fault_cpu_from_uc(struct cpu *c, const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;

	for (int i = 0; i < GPR_COUNT; i++)
		c->gpr[i] = (uint64_t)g[fault_greg_of[i]];
	c->rip = (uint64_t)g[REG_RIP];
	c->rflags = (uint64_t)g[REG_EFL];
	c->fs_base = c->gs_base = 0;
	c->xsave = NULL;
	c->xfeatures = 0;
	if (fp && !((uintptr_t)fp & 63)) {
		uint32_t magic;
		/* struct _fpx_sw_bytes lives in the FXSAVE image's software
		 * reserved bytes 464..511 (arch/x86/include/uapi/asm/sigcontext.h) */
		memcpy(&magic, fp + 464, 4);
		if (magic == FP_XSTATE_MAGIC1) {
			c->xsave = (void *)fp;
			memcpy(&c->xfeatures, fp + 464 + 8, 8);
		}
	}
}

/* signal context */
static void cpu_to_uc(const struct cpu *c, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;

	for (int i = 0; i < GPR_COUNT; i++)
		g[fault_greg_of[i]] = (greg_t)c->gpr[i];
	g[REG_RIP] = (greg_t)c->rip;
	g[REG_EFL] = (greg_t)c->rflags;
}

/* signal context: at the program's pc (the fault path completes the copy
 * of a hot site's instruction where it is, hot.h) */
void fault_record(void *arg, const struct insn *in, const struct cpu *c, const struct emu_access *a)
{
	struct thread_state *t = arg;
	uint64_t pc = hot_program_pc(c->rip);

	if (a->rflags & REGION_WATCH)
		watch_on_access(t, pc, a, 0);
	if (a->rflags & REGION_TRACE)
		rec_access(t, pc, in->bytes, in->len, a);
}

/* signal context: the engine's context for thread t's access */
struct emu_ctx fault_ctx(struct thread_state *t, struct icache_entry *ce,
			 void (*record)(void *, const struct insn *, const struct cpu *,
					const struct emu_access *))
{
	return (struct emu_ctx){
		.regions = &agent.regions,
		.scratch = t->scratch,
		.code = t->code,
		.record = record,
		.arg = t,
		.cached = ce,
		.peek = mem_peek,
		.poke = mem_poke,
	};
}

/* signal context: the decoded instruction at pc (cached per thread), read
 * without crossing into a page that may not exist unless it must */
static const struct insn *decode_at(struct thread_state *t, uint64_t pc, struct insn *buf,
				    struct icache_entry **ce)
{
	size_t to_page_end = 4096 - (pc & 4095);
	size_t avail = to_page_end < 15 ? to_page_end : 15;
	uint8_t code[15];

	/* one read of the bytes, decoded as read: they may change meanwhile
	 * (another thread patching this site) */
	memcpy(code, (const void *)pc, avail);
	if (avail < 15 && mem_peek(pc + avail, code + avail, (unsigned)(15 - avail)) == 0)
		avail = 15;
	hot_orig_fix(pc, code, avail);
	*ce = NULL;
	if (t->icache) {
		*ce = icache_get(t->icache, pc, code, avail);
		return *ce ? &(*ce)->in : NULL;
	}
	return insn_decode(buf, code, avail) == 0 ? buf : NULL;
}

/*
 * signal context: would the program's own hardware breakpoint see this
 * access if it ran natively (issue 7, C.11)?  Completed by the engine on
 * the alias it would not, so it must run natively.  The range is the
 * instruction's own for a single memory operand; a string instruction, a
 * gather or scatter, or a stack access may reach further from the
 * faulting address, so for them any breakpoint on the faulting page
 * counts (a step too many costs time, never correctness).
 */
static bool program_bp_sees(const struct thread_state *t, const struct insn *in,
			    const struct cpu *c, uint64_t addr)
{
	if (!hwshare_any())
		return false;
	if (in->cls == INSN_XOL && in->mem >= 0 && in->width)
		return hwshare_would_trap(t->tid, insn_mem_addr(in, c), in->width, in->rd, in->wr);
	return hwshare_would_trap(t->tid, addr & ~4095ull, 4096, true, true);
}

/* signal context */
static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;
	ucontext_t *uc = ucv;
	uint64_t addr = (uint64_t)si->si_addr;
	struct thread_state *t;
	struct region r;
	struct insn buf;
	const struct insn *in;
	struct icache_entry *ce;
	struct cpu c;

	if (!agent.active || si->si_code <= 0)
		goto not_ours;
	if (hot_abandon(uc))
		goto out; /* the alias went while a hot site used it */
	if (region_find(&agent.regions, addr, &r) < 0) {
		if (watch_recently_disarmed(addr))
			goto out; /* reopened since it faulted: run it again */
		goto not_ours;
	}
	t = thread_get();
	if (!t) {
		/* mmscope's own failure is never the program's SIGSEGV */
		if (obs_give_up(addr, "no memory for mmscope's state of a thread: the region "
				      "goes back to the program") == 0)
			goto out;
		goto not_ours;
	}
	if (t->stepping) {
		if (step_on_fault(t, uc, addr) == 0)
			goto out;
		goto not_ours;
	}
	fault_cpu_from_uc(&c, uc);
	in = decode_at(t, c.rip, &buf, &ce);
	if (!in) {
		step_begin(t, uc, &r, addr, NULL, &c, STEP_UNDECODED);
		goto out;
	}
	if (in->cls == INSN_XOL && in->op[in->mem].mem.segment == ZYDIS_REGISTER_FS)
		sys_call2(SYS_arch_prctl, ARCH_GET_FS, &c.fs_base);
	if (in->cls == INSN_XOL && in->op[in->mem].mem.segment == ZYDIS_REGISTER_GS)
		sys_call2(SYS_arch_prctl, ARCH_GET_GS, &c.gs_base);

	if (program_bp_sees(t, in, &c, addr)) {
		/* natively, under the trap flag: the debug register sees it */
		step_begin(t, uc, &r, addr, in, &c, STEP_PROGRAM_BP);
		goto out;
	}

	struct emu_ctx e = fault_ctx(t, ce, fault_record);
	enum emu_result res;
	uint64_t pc = c.rip;
	if (r.alias) {
		res = emu_complete(&e, in, &c);
	} else {
		/* a watched private page: every access to it is ours, one
		 * thread at a time, so read-modify-write stays atomic */
		watch_lock();
		res = emu_complete(&e, in, &c);
		watch_unlock();
	}
	switch (res) {
	case EMU_DONE:
		cpu_to_uc(&c, uc);
		debug_after_step(uc);
		if (r.alias && !(r.flags & REGION_WATCH))
			hot_note(pc, ce);
		goto out;
	case EMU_SLOW:
		if (step_out_of_line(t, &c, &r, addr, in) == 0) {
			cpu_to_uc(&c, uc);
			debug_after_step(uc);
			goto out;
		}
		step_begin(t, uc, &r, addr, in, &c, STEP_ENGINE);
		goto out;
	default:
		/* the program's own fault: at the address the CPU would name
		 * (a later element of a gather or scatter, say) */
		if (e.fault_addr)
			si->si_addr = (void *)e.fault_addr;
		goto not_ours;
	}
not_ours:
	errno = saved_errno;
	hot_fix(0, si, uc);
	if (!debug_on_signal(sig, si)) /* else the debugger sees it first */
		signals_chain(sig, si, ucv);
	return;
out:
	errno = saved_errno;
}

/* signal context */
static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;

	if (agent.active && hot_on_int3(si, ucv)) {
		errno = saved_errno;
		return;
	}
	if (agent.active && agent.nwatches && watch_on_trap(si, ucv)) {
		errno = saved_errno;
		return;
	}
	if (agent.active && debug_on_trap(si, ucv)) {
		errno = saved_errno;
		return;
	}
	if (agent.active && si->si_code == TRAP_TRACE) {
		struct thread_state *t = thread_get();
		siginfo_t perf;
		if (t && t->stepping) {
			if (step_on_trap(t, ucv, &perf)) /* the program's own */
				signals_chain(SIGTRAP, &perf, ucv);
			debug_after_step(ucv);
			errno = saved_errno;
			return;
		}
	}
	errno = saved_errno;
	hot_fix(0, si, ucv);
	if (!debug_on_signal(sig, si))
		signals_chain(sig, si, ucv);
}

/* signal context: a debugger stop that parks this thread inside either
 * handler shows it where the program was (park.c) */
void fault_on_segv(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *saved;

	park_handler_enter(uc, &saved);
	on_segv(sig, si, uc);
	park_handler_leave(saved);
	debug_after_fault(uc);
}

void fault_on_trap(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *saved;

	park_handler_enter(uc, &saved);
	on_trap(sig, si, uc);
	park_handler_leave(saved);
	debug_after_fault(uc);
}
