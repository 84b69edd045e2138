/* SPDX-License-Identifier: MIT */
/*
 * Running a patched site (see hot.h): mms_hot_enter() completes the
 * access from the frame hot-common.S built, and hot_fix() keeps the stub out of
 * every context a signal hands to the program or to a stop.
 *
 * Where a thread can be when a signal comes, and what its context
 * becomes:
 *   - in the site's stub or hot-common.S before the frame is complete: nothing
 *     is done yet, so back to the site, with the stack as it was;
 *   - in hot-common.S after the frame is complete, before the call: back to the
 *     site, registers from the frame;
 *   - in mms_hot_enter, before the access is complete (HOT_BUSY): the
 *     signal waits (it is queued again, blocked until the access is
 *     recorded; then it comes at once, as the next case);
 *   - the access complete (HOT_DONE, or in hot-common.S after the call): on to
 *     frame->cont with the registers it left, as if the stub had
 *     returned;
 *   - in the copy of the original instruction: at the site (or after it,
 *     on the jump back).
 * The fault path itself sees the copy as it is: it completes the
 * instruction there and only the record says the site's pc.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ucontext.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "util/sys.h"

__thread struct hot_tls mms_hot_tls;
/* hot-common.S knows these */
_Static_assert(offsetof(struct hot_tls, frame) == 8, "hot_tls.frame");
_Static_assert(offsetof(struct hot_tls, accessed) == 16, "hot_tls.accessed");
_Static_assert(offsetof(struct hot_tls, vector) == 160, "hot_tls.vector");

extern const char mms_hot_common[], mms_hot_pushed[], mms_hot_framed[], mms_hot_returned[],
	mms_hot_end[];

/* Stub layout (hot.c writes it): where its steps begin. */
#define STUB_ABOVE (HOTSTUB_RED_ZONE + 8) /* what the stub puts below the program's rsp */

static void signal_fence(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* signal context: the record of an access completed here; the first one
 * means the access happened, so it can no longer be abandoned */
static void record(void *arg, const struct insn *in, const struct cpu *c,
		   const struct emu_access *a)
{
	mms_hot_tls.accessed = 1; /* see hot_abandon */
	signal_fence();
	fault_record(arg, in, c, a);
}

/* The access of site s, completed on the registers in f; false: the
 * copy of the instruction takes it (or has it, untraced). */
static bool complete(struct hot_frame *f, struct hot_site *s)
{
	const struct insn *in = &s->ce.in;
	struct thread_state *t;
	struct region r;
	struct cpu c;

	if (!agent.active || s->state != HOT_PATCHED || (f->rflags & CPU_FLAG_TF) || hwshare_any())
		return false;
	t = thread_get();
	if (!t || t->stepping)
		return false;
	memcpy(c.gpr, f->gpr, sizeof(c.gpr));
	c.gpr[GPR_RSP] = (uint64_t)(f + 1);
	c.rip = s->pc;
	c.rflags = f->rflags;
	c.fs_base = c.gs_base = 0;
	c.xsave = NULL;
	c.xfeatures = 0;
	/* a watched page, or one whose access needs the watch lock, is the
	 * fault path's: it knows the watches */
	if (region_find(&agent.regions, insn_mem_addr(in, &c), &r) < 0 || !r.alias ||
	    (r.flags & REGION_WATCH))
		return false;

	struct emu_ctx e = fault_ctx(t, &s->ce, record);
	if (emu_complete(&e, in, &c) != EMU_DONE)
		return false;
	for (int i = 0; i < GPR_COUNT; i++)
		if (i != GPR_RSP)
			f->gpr[i] = c.gpr[i];
	f->rflags = c.rflags;
	f->cont = c.rip;
	s->hits++;
	return true;
}

/* signals put off while the access was completed come now: on the way
 * out of the system call, with the thread HOT_DONE (hot_fix moves it on) */
static void redeliver(struct hot_tls *h)
{
	sigset_t m = h->saved_mask;

	h->deferred = 0;
	signal_fence();
	sys_rt_sigprocmask(SIG_SETMASK, &m, NULL);
}

void hot_done(void)
{
	struct hot_tls *h = &mms_hot_tls;

	signal_fence();
	h->state = HOT_DONE;
	signal_fence();
	if (h->deferred)
		redeliver(h);
}

/* Called by hot-common.S, on the program's stack, with its registers in
 * f and its vector state below. */
void mms_hot_enter(struct hot_frame *f)
{
	struct hot_site *s = &hot_sites[f->index];

	/* HOT_BUSY already (hot-common.S) */
	if (!complete(f, s))
		f->cont = s->copy;
	hot_done();
}

/* ---- signals meanwhile ---- */

static greg_t *reg(ucontext_t *uc, int gpr)
{
	return &uc->uc_mcontext.gregs[fault_greg_of[gpr]];
}

/* The program's x87/SSE/AVX/AVX-512 state as hot-common.S saved it (XSAVE,
 * standard format, below frame f) into the signal frame's (the same
 * format: fpx_sw_bytes says so), so that it comes back at sigreturn. */
static void vector_from_area(ucontext_t *uc, const struct hot_frame *f)
{
	const uint8_t *area = (const uint8_t *)(((uint64_t)f - mms_hot_xsave_size) & ~63ull);
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	const struct _fpx_sw_bytes *sw;
	uint64_t n;

	if (!fp)
		return;
	memcpy(fp, area, 464); /* legacy region, up to the kernel's bytes */
	sw = (const struct _fpx_sw_bytes *)(fp + 464);
	if (sw->magic1 != FP_XSTATE_MAGIC1)
		return;
	memcpy(fp + 512, area + 512, 8); /* XSTATE_BV */
	n = sw->xstate_size < mms_hot_xsave_size ? sw->xstate_size : mms_hot_xsave_size;
	if (n > 576)
		memcpy(fp + 576, area + 576, n - 576);
}

static struct hot_site *site_of(const struct hot_frame *f)
{
	return &hot_sites[f->index];
}

/* back to the site: nothing has happened (regs: from the frame) */
static void rewind(ucontext_t *uc, const struct hot_frame *f, bool regs, bool vector)
{
	if (regs) {
		for (int i = 0; i < GPR_COUNT; i++)
			if (i != GPR_RSP)
				*reg(uc, i) = (greg_t)f->gpr[i];
		uc->uc_mcontext.gregs[REG_EFL] = (greg_t)f->rflags;
	}
	if (vector && mms_hot_tls.vector)
		vector_from_area(uc, f);
	*reg(uc, GPR_RSP) = (greg_t)(f + 1);
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)site_of(f)->pc;
}

/* on to frame->cont: what hot-common.S has restored already is in uc (its slot
 * is below rsp now, and may be gone), the rest is in the frame */
static void forward(ucontext_t *uc, const struct hot_frame *f)
{
	uint64_t rsp = (uint64_t)*reg(uc, GPR_RSP);
	const struct hot_site *s = site_of(f);

	for (int i = 0; i < GPR_COUNT; i++)
		if (i != GPR_RSP && (uint64_t)&f->gpr[i] >= rsp)
			*reg(uc, i) = (greg_t)f->gpr[i];
	if ((uint64_t)&f->rflags >= rsp)
		uc->uc_mcontext.gregs[REG_EFL] = (greg_t)f->rflags;
	if (rsp < (uint64_t)f && mms_hot_tls.vector)
		vector_from_area(uc, f);
	*reg(uc, GPR_RSP) = (greg_t)(f + 1);
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(f->cont == s->copy ? s->pc : f->cont);
}

/* the frame as it will be, from rsp inside the pushes of hot-common.S at pc */
static const struct hot_frame *frame_while_pushing(uint64_t rsp, uint64_t pc)
{
	unsigned pushed = 0;

	for (const uint8_t *p = (const uint8_t *)mms_hot_common; (uint64_t)p < pc; p++)
		if (*p != 0x41) /* REX.B of push %r8..%r15 */
			pushed++;
	return (const struct hot_frame *)(rsp + 8 * pushed - 8 * 17);
}

static struct hot_site *in_stub(uint64_t pc, unsigned *off);

static void put_off(int sig, siginfo_t *si, ucontext_t *uc)
{
	struct hot_tls *h = &mms_hot_tls;

	uint64_t bit = 1ull << (sig - 1);

	if (!h->deferred)
		h->saved_mask = uc->uc_sigmask;
	h->deferred |= bit;
	sigaddset(&uc->uc_sigmask, sig);
	/* blocked in this handler too (it may run with sig unblocked,
	 * SA_NODEFER): else the copy comes at once, here, and again */
	sys_call4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&bit, 0, 8);
	sys_call4(SYS_rt_tgsigqueueinfo, agent.pid, sys_gettid(), sig, (long)si);
}

/* signal context */
bool hot_fix(int sig, siginfo_t *si, ucontext_t *uc)
{
	struct hot_tls *h = &mms_hot_tls;
	uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t rsp = (uint64_t)*reg(uc, GPR_RSP);
	struct hot_site *s;
	unsigned off;

	if (!hot_sites)
		return true;
	if (h->state == HOT_BUSY) {
		if (sig > 0 && sig <= 64)
			put_off(sig, si, uc);
		return false;
	}
	if (h->state == HOT_DONE) {
		forward(uc, h->frame);
		h->state = HOT_IDLE;
		return true;
	}
	if (pc >= (uint64_t)mms_hot_common && pc < (uint64_t)mms_hot_end) {
		if (pc < (uint64_t)mms_hot_pushed)
			rewind(uc, frame_while_pushing(rsp, pc), false, false);
		else if (pc < (uint64_t)mms_hot_framed)
			rewind(uc, (const struct hot_frame *)rsp, true, false);
		else if (pc < (uint64_t)mms_hot_returned)
			rewind(uc, h->frame, true, false);
		else
			forward(uc, h->frame);
		return true;
	}
	s = in_stub(pc, &off);
	if (!s)
		return true;
	if (off < HOTSTUB_COPY) {
		*reg(uc, GPR_RSP) = (greg_t)(rsp + (off == 0		  ? 0
						    : off == HOTSTUB_PUSH ? STUB_ABOVE - 8
									  : STUB_ABOVE));
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)s->pc;
	} else {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)hot_program_pc(pc);
	}
	return true;
}

/* signal context */
bool hot_abandon(ucontext_t *uc)
{
	struct hot_tls *h = &mms_hot_tls;

	if (!hot_sites || h->state != HOT_BUSY || h->accessed)
		return false;
	rewind(uc, h->frame, true, true);
	h->state = HOT_IDLE;
	if (h->deferred) {
		/* what was put off comes once this handler returns */
		uc->uc_sigmask = h->saved_mask;
		h->deferred = 0;
	}
	return true;
}

static struct hot_site *in_stub(uint64_t pc, unsigned *off)
{
	struct hot_site *s = hot_stub_site(pc);

	if (s)
		*off = (unsigned)(pc - s->stub);
	return s;
}
