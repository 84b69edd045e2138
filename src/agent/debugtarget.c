/* SPDX-License-Identifier: MIT */
/*
 * The program as the debugger sees it (src/debug/target.c's ops): its
 * threads and their registers while parked, memory through mem.c,
 * breakpoints (int3 in the text), watches (watch.c's debugger pool), and
 * the stops: all threads parked through park.c and held; a thread that
 * stops by itself (a breakpoint, the end of a step, a watch hit)
 * publishes its context from its signal handler and wakes the serving
 * thread.  Functions named op_* and debug_stop_all/debug_resume run on
 * that thread and, while the program is stopped, call nothing that could
 * take a lock a parked thread holds: raw system calls and static buffers.
 */
#define LOG_DOMAIN "gdb"
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ucontext.h>

#include "agent/agent.h"
#include "agent/debugsock.h"
#include "agent/debugstate.h"
#include "agent/mem.h"
#include "agent/record.h"
#include "mmscope/trace-format.h"
#include "util/log.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/sys.h"

#define BP_MAX 1024
#define STEP_MAX 64
#define REMOVED_MAX 64

/* gdb's Z0 and Z1 alike are an int3 here (docs/debugging.md: the debug
 * registers are not used for Z1 yet); kinds says which gdb asked for, so
 * that a stop says swbreak: or hwbreak: and one int3 serves both. */
enum { BP_SW = 1, BP_HW = 2 };
static struct {
	uint64_t addr;
	uint8_t orig;
	uint8_t kinds; /* BP_SW | BP_HW: written before used is set */
	bool used;
} bps[BP_MAX];

/* breakpoints removed a moment ago: a thread may have trapped on one
 * before it went (written by this thread, read in signal context) */
static uint64_t removed[REMOVED_MAX];
static unsigned nremoved;

/* threads the debugger single-steps */
static int stepping[STEP_MAX];

/* ---- signal context ---- */

void debug_notify(void)
{
	uint64_t one = 1;

	sys_write(dbg.event_fd, &one, 8);
}

/* the kinds of the breakpoint at addr, 0 when there is none */
static int bp_at(uint64_t addr)
{
	for (int i = 0; i < BP_MAX; i++)
		if (__atomic_load_n(&bps[i].used, __ATOMIC_ACQUIRE) && bps[i].addr == addr)
			return __atomic_load_n(&bps[i].kinds, __ATOMIC_ACQUIRE);
	return 0;
}

static bool recently_removed(uint64_t addr)
{
	for (unsigned i = 0; i < REMOVED_MAX; i++)
		if (__atomic_load_n(&removed[i], __ATOMIC_ACQUIRE) == addr)
			return true;
	return false;
}

static bool take_stepping(int tid)
{
	for (int i = 0; i < STEP_MAX; i++) {
		int want = tid;
		if (__atomic_compare_exchange_n(&stepping[i], &want, 0, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

/* A debugger watch this thread hit in the access being completed: it
 * stops when the access is over (debug_after_fault), or its step stop
 * reports it (gdb stepping over a watched store wants the watch). */
static __thread struct {
	int ev;
	uint64_t addr;
} pending;

void debug_watch_hit(int type, uint64_t addr)
{
	if (!dbg.on || pending.ev)
		return; /* the first byte of the first hit is the one reported */
	pending.ev = type == MMS_WATCH_WRITE  ? EV_WATCH
		     : type == MMS_WATCH_READ ? EV_RWATCH
					      : EV_AWATCH;
	pending.addr = addr;
}

static void step_stop(ucontext_t *uc)
{
	int ev = pending.ev ? pending.ev : EV_STEP;

	pending.ev = 0;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
	park_stop_self(uc, ev, pending.addr, debug_notify);
}

/* the program's own signal, held back for the debugger (debug_on_signal);
 * resent: the one the debugger asked for in its place, sent to this
 * thread, which must not stop again */
static __thread struct {
	int sig, resent;
	siginfo_t si;
} held;

bool debug_on_signal(int sig, const siginfo_t *si)
{
	if (held.resent == sig && si->si_code == SI_TKILL && si->si_pid == agent.pid) {
		held.resent = 0;
		return false;
	}
	if (!dbg.on || dbg.client_fd < 0 || held.sig)
		return false;
	if (sig <= 64 && __atomic_load_n(&dbg.sess.pass, __ATOMIC_ACQUIRE) >> (sig - 1) & 1) {
		/* gdb does not stop for it (QPassSignals): it goes on now,
		 * and gdb hears of it only if it ends the program */
		if (signals_chain_kills(sig, si))
			debug_program_dies(sig);
		return false;
	}
	held.sig = sig;
	held.si = *si;
	return true;
}

/* the siginfo of threads stopped by their own fault, for gdb's
 * $_siginfo (qXfer:siginfo:read); each entry is its thread's while it
 * is stopped */
#define SIGINFO_MAX 64
static struct {
	int tid;
	const siginfo_t *si;
} siginfos[SIGINFO_MAX];

static int siginfo_publish(int tid, const siginfo_t *si)
{
	for (int i = 0; i < SIGINFO_MAX; i++) {
		int none = 0;
		if (__atomic_compare_exchange_n(&siginfos[i].tid, &none, -1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			siginfos[i].si = si;
			__atomic_store_n(&siginfos[i].tid, tid, __ATOMIC_RELEASE);
			return i;
		}
	}
	return -1;
}

void debug_after_fault(void *ucv)
{
	if (held.sig) {
		int sig = held.sig, pass = sig;
		if (dbg.on && dbg.client_fd >= 0) {
			int k = siginfo_publish((int)sys_gettid(), &held.si);
			pass = park_stop_self(ucv, EV_SIGNAL, (uint64_t)sig, debug_notify);
			if (k >= 0)
				__atomic_store_n(&siginfos[k].tid, 0, __ATOMIC_RELEASE);
		}
		held.sig = 0;
		/* the same signal: delivered as the kernel made it; none: the
		 * instruction runs again (and faults again); another one: sent */
		if (pass == sig && signals_chain_kills(sig, &held.si))
			debug_program_dies(sig);
		if (pass == sig)
			signals_chain(sig, &held.si, ucv);
		else if (pass) {
			held.resent = pass;
			sys_tgkill(agent.pid, (int)sys_gettid(), pass);
		}
		return;
	}
	if (!pending.ev)
		return;
	int ev = pending.ev;
	pending.ev = 0;
	if (dbg.on && dbg.client_fd >= 0)
		park_stop_self(ucv, ev, pending.addr, debug_notify);
}

void debug_after_step(void *ucv)
{
	if (dbg.on && take_stepping((int)sys_gettid()))
		step_stop(ucv);
}

/*
 * Stepping into mmscope.  A step that lands in the agent's own code (the
 * program called an interposed function: mmap, pthread_create, ...) must
 * not go on inside it: the agent blocks every signal around its critical
 * sections, and a trap while SIGTRAP is blocked kills the process.  So the
 * call runs at full speed and the step ends where it returns: the return
 * address on the stack is swapped for debug_step_return, whose int3 puts
 * it back and reports the step there.  Per thread, so other threads never
 * see it; a fork child returns through it too and just goes on.
 */
__asm__(".pushsection .text\n"
	".globl debug_step_return\n"
	".hidden debug_step_return\n"
	"debug_step_return:\n"
	"\tint3\n"
	"\tud2\n"
	".popsection\n");
extern const char debug_step_return[];

static __thread uint64_t step_return_to; /* the call's real return address */
static uint64_t agent_lo, agent_hi;	 /* the agent's text */

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t self = (uint64_t)arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && self >= lo && self < hi) {
			agent_lo = lo;
			agent_hi = hi;
			return 1;
		}
	}
	return 0;
}

void debug_find_agent_text(void)
{
	dl_iterate_phdr(find_text, (void *)(uintptr_t)debug_find_agent_text);
}

static bool in_agent(uint64_t pc)
{
	return pc >= agent_lo && pc < agent_hi;
}

bool debug_in_agent(uint64_t pc)
{
	return in_agent(pc);
}

uint64_t debug_caller(uint64_t ra)
{
	return ra == (uint64_t)debug_step_return && step_return_to ? step_return_to : ra;
}

/* The step ended at pc inside the agent: run the call free. */
static void step_over_agent(ucontext_t *uc)
{
	uint64_t sp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP], ra;
	static const uint64_t tramp = (uint64_t)debug_step_return;

	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
	/* at a function's first instruction the return address is on top;
	 * anywhere else (a program function returned into the agent's
	 * thread start) the thread runs on and the step never ends */
	if (!step_return_to && mem_peek(sp, &ra, 8) == 0 && ra && !in_agent(ra) &&
	    mem_poke(sp, &tramp, 8) == 0)
		step_return_to = ra;
}

/* The call stepped over returned here: put the return address back. */
static bool step_returned(ucontext_t *uc, uint64_t addr)
{
	if (addr != (uint64_t)debug_step_return || !step_return_to)
		return false;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)step_return_to;
	step_return_to = 0;
	if (dbg.on && dbg.client_fd >= 0)
		step_stop(uc);
	return true;
}

bool debug_on_trap(siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	int tid;

	if (si->si_code == SI_KERNEL && step_returned(uc, pc - 1))
		return true; /* also in a fork child: no debugger there */
	if (!dbg.on)
		return false;
	if (si->si_code == SI_KERNEL) { /* int3 */
		uint64_t addr = pc - 1;
		if (addr == __atomic_load_n(&dbg.entry, __ATOMIC_ACQUIRE)) {
			mem_patch_text(addr, &dbg.entry_orig, 1);
			__atomic_store_n(&dbg.entry, 0, __ATOMIC_RELEASE);
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
			park_stop_self(uc, EV_ENTRY, addr, debug_notify);
			return true;
		}
		int kinds = bp_at(addr);
		if (kinds) {
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
			park_stop_self(uc, kinds & BP_SW ? EV_SWBREAK : EV_HWBREAK, addr,
				       debug_notify);
			return true;
		}
		if (recently_removed(addr)) {
			uint8_t b;
			if (mem_peek(addr, &b, 1) == 0 && b != 0xcc) {
				uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
				return true; /* run the original instruction */
			}
		}
		return false;
	}
	tid = (int)sys_gettid();
	if (__atomic_load_n(&mmscope_stepping_tid, __ATOMIC_ACQUIRE) == tid)
		return false; /* the slow path's own step */
	if ((si->si_code == TRAP_TRACE || si->si_code == TRAP_BRKPT) && take_stepping(tid)) {
		if (in_agent(pc))
			step_over_agent(uc);
		else
			step_stop(uc);
		return true;
	}
	return false;
}

/* ---- the target, for src/debug/target.c ---- */

struct park_slot *debug_slot_of(int tid)
{
	struct park_slot *s = park_slots();

	for (int i = 0; i < PARK_MAX_THREADS; i++)
		if (s[i].tid == tid && s[i].uc)
			return &s[i];
	return NULL;
}

static int op_threads(void *arg, int *tids, int max)
{
	struct park_slot *s = park_slots();
	int n = 0;

	(void)arg;
	if (!dbg.stopped)
		return 0;
	if (dbg.reported && n < max)
		tids[n++] = dbg.reported;
	for (int i = 0; i < PARK_MAX_THREADS && n < max; i++)
		if (s[i].tid && s[i].uc && s[i].tid != dbg.reported)
			tids[n++] = s[i].tid;
	return n;
}

static int op_regs(void *arg, int tid, struct x86_regctx **c)
{
	struct park_slot *s = dbg.stopped ? debug_slot_of(tid) : NULL;

	(void)arg;
	if (!s)
		return -ESRCH;
	*c = &dbg.ctx[s - park_slots()];
	return 0;
}

static long op_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	return mem_read(addr, buf, len, dbg.mem_flags);
}

static long op_write(void *arg, uint64_t addr, const void *buf, size_t len)
{
	(void)arg;
	return mem_write(addr, buf, len, dbg.mem_flags);
}

static void forget_removed(void)
{
	for (unsigned i = 0; i < REMOVED_MAX; i++)
		__atomic_store_n(&removed[i], 0, __ATOMIC_RELEASE);
}

static int bp_insert(uint64_t addr, int kind)
{
	static const uint8_t int3 = 0xcc;
	int free_i = -1, r;
	uint8_t orig;

	for (int i = 0; i < BP_MAX; i++) {
		if (bps[i].used && bps[i].addr == addr) {
			/* gdb may insert twice, or both kinds */
			__atomic_or_fetch(&bps[i].kinds, kind, __ATOMIC_RELEASE);
			return 0;
		}
		if (!bps[i].used && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return -ENOSPC;
	if ((r = mem_peek(addr, &orig, 1)) < 0)
		return r;
	if ((r = mem_patch_text(addr, &int3, 1)) < 0)
		return r;
	bps[free_i].addr = addr;
	bps[free_i].orig = orig;
	bps[free_i].kinds = (uint8_t)kind;
	__atomic_store_n(&bps[free_i].used, true, __ATOMIC_RELEASE);
	return 0;
}

static int bp_remove_at(int i)
{
	int r = mem_patch_text(bps[i].addr, &bps[i].orig, 1);

	__atomic_store_n(&removed[nremoved++ % REMOVED_MAX], bps[i].addr, __ATOMIC_RELEASE);
	__atomic_store_n(&bps[i].used, false, __ATOMIC_RELEASE);
	return r;
}

static int bp_remove(uint64_t addr, int kind)
{
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used && bps[i].addr == addr)
			return __atomic_and_fetch(&bps[i].kinds, (uint8_t)~kind, __ATOMIC_RELEASE)
				       ? 0
				       : bp_remove_at(i);
	return 0; /* gdb removes what a lost connection already removed */
}

static int op_bp(void *arg, bool insert, enum dbg_bp_type type, uint64_t addr, uint64_t len)
{
	(void)arg;
	if (type == DBG_WP_WRITE || type == DBG_WP_READ || type == DBG_WP_ACCESS) {
		int r = watch_debugger_set(0, insert,
					   type == DBG_WP_WRITE	 ? MMS_WATCH_WRITE
					   : type == DBG_WP_READ ? MMS_WATCH_READ
								 : MMS_WATCH_RW,
					   addr, len, NULL);
		/* gdb's own message names no reason: the log does */
		if (r < 0)
			pr_warn("cannot watch 0x%llx,%llu: %s", (unsigned long long)addr,
				(unsigned long long)len,
				r == -EPERM
					? "code or a thread's stack (pages cannot be closed there)"
				: r == -EINVAL ? "length 0 or over 256 bytes"
				: r == -EFAULT ? "not mapped"
				: r == -ENOSPC ? "every one of 256 debugger watches is in use"
					       : "the watch engine is off");
		return r;
	}
	/* gdb's kind is the breakpoint's length in bytes: 1 for x86 */
	if (len != 1)
		return -EINVAL;
	int kind = type == DBG_BP_HW ? BP_HW : BP_SW;
	return insert ? bp_insert(addr, kind) : bp_remove(addr, kind);
}

/* Does [lo, hi) overlap the mapping a stopped thread's stack pointer is
 * in?  (watch.c will not close such a page: the fault's signal frame
 * would have to be written there.) */
bool debug_is_stack(uint64_t lo, uint64_t hi)
{
	static struct maps_reader mr;
	static struct maps_line m;
	struct park_slot *s = park_slots();
	bool hit = false;

	if (!dbg.stopped || maps_open(&mr) < 0)
		return false;
	while (!hit && maps_next(&mr, &m) > 0) {
		if (m.hi <= lo || m.lo >= hi)
			continue;
		for (int i = 0; i < PARK_MAX_THREADS && !hit; i++) {
			uint64_t sp = s[i].tid && s[i].uc
					      ? (uint64_t)s[i].uc->uc_mcontext.gregs[REG_RSP]
					      : 0;
			hit = sp >= m.lo && sp < m.hi;
		}
	}
	maps_close(&mr);
	return hit;
}

static long op_object(void *arg, const char *name, char *buf, size_t cap)
{
	(void)arg;
	if (!strncmp(name, "siginfo:", 8)) {
		int tid = atoi(name + 8);
		for (int i = 0; i < SIGINFO_MAX && dbg.stopped; i++)
			if (__atomic_load_n(&siginfos[i].tid, __ATOMIC_ACQUIRE) == tid && tid > 0) {
				size_t n = sizeof(siginfo_t) < cap ? sizeof(siginfo_t) : cap;
				memcpy(buf, siginfos[i].si, n);
				return (long)n;
			}
		return -ENODATA; /* it did not stop for a signal of its own */
	}
	if (!strcmp(name, "auxv"))
		return proc_read("self/auxv", buf, cap);
	return proc_readlink("self/exe", buf, cap);
}

static long op_thread_name(void *arg, int tid, char *out, size_t cap)
{
	char rel[64];
	long n;

	(void)arg;
	snprintf(rel, sizeof(rel), "self/task/%d/comm", tid);
	n = proc_read(rel, out, cap);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == 0))
		n--;
	return n < 0 ? 0 : n;
}

/* Let the threads go as r says; the stop that ends this comes later. */
void debug_resume(const struct dbg_resume *r)
{
	struct park_slot *s = park_slots();
	static struct park_slot *runs[PARK_MAX_THREADS];
	static int sigs[PARK_MAX_THREADS], sig_tids[PARK_MAX_THREADS];
	int nrun = 0, nsig = 0;

	forget_removed();
	watch_debugger_commit();
	for (int i = 0; i < PARK_MAX_THREADS; i++) {
		int tid = s[i].tid;
		enum dbg_act act = DBG_ACT_STOP;
		int sig = 0;
		if (!tid || !s[i].uc)
			continue;
		for (int k = 0; r && k < r->n; k++)
			if (r->a[k].tid == tid || r->a[k].tid == -1) {
				act = r->a[k].act;
				sig = r->a[k].sig;
				break;
			}
		if (!r) { /* detached: each signal goes on, as gdbserver does */
			act = DBG_ACT_CONTINUE;
			sig = s[i].stop_sig;
		}
		struct x86_regctx *c = &dbg.ctx[i];
		s[i].fs_base = c->fs_base;
		s[i].gs_base = c->gs_base;
		s[i].fs_base_set = c->fs_base_set;
		s[i].gs_base_set = c->gs_base_set;
		if (act == DBG_ACT_STOP)
			continue;
		if (act == DBG_ACT_STEP) {
			for (int k = 0; k < STEP_MAX; k++) {
				int none = 0;
				if (__atomic_compare_exchange_n(&stepping[k], &none, tid, false,
								__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
					break;
			}
			s[i].uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
		}
		s[i].resume_sig = 0;
		if (sig && s[i].stop_sig == sig) {
			s[i].resume_sig = sig; /* it delivers the one it has */
		} else if (sig) {
			sigs[nsig] = sig;
			sig_tids[nsig++] = tid;
		}
		s[i].stop_sig = 0;
		s[i].event = 0;
		__atomic_store_n(&s[i].hold, 0, __ATOMIC_RELEASE);
		runs[nrun++] = &s[i];
	}
	dbg.stopped = false;
	dbg.reported = 0;
	park_end();
	for (int i = 0; i < nrun; i++)
		park_unhold(runs[i]);
	for (int i = 0; i < nsig; i++)
		sys_tgkill(agent.pid, sig_tids[i], sigs[i]);
}

static int op_resume(void *arg, const struct dbg_resume *r)
{
	(void)arg;
	if (!dbg.stopped)
		return -EBUSY;
	debug_resume(r);
	return 0;
}

void debug_remove_all(void)
{
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used)
			bp_remove_at(i);
	watch_debugger_clear(0);
	for (int i = 0; i < STEP_MAX; i++)
		__atomic_store_n(&stepping[i], 0, __ATOMIC_RELEASE);
}

static void op_detach(void *arg)
{
	(void)arg;
	debug_remove_all(); /* the program runs on when the session closes */
}

static void op_kill(void *arg)
{
	(void)arg;
	sys_call2(SYS_kill, agent.pid, SIGKILL);
}

const struct dbg_ops debug_target_ops = {
	.threads = op_threads,
	.regs = op_regs,
	.read = op_read,
	.write = op_write,
	.resume = op_resume,
	.bp = op_bp,
	.object = op_object,
	.monitor = debug_monitor,
	.thread_name = op_thread_name,
	.detach = op_detach,
	.kill = op_kill,
};

/* ---- stopping ---- */

/*
 * Park and hold every thread; the stop to report: a thread that stopped
 * itself if there is one (others that hit a breakpoint meanwhile stand at
 * it again and hit it again when they run), else sig in the first
 * thread.  false when woken by an event that has already been reported.
 */
bool debug_stop_all(int sig, bool from_event, struct dbg_stop *st)
{
	struct park_slot *s = park_slots();
	struct park_slot *ev = NULL, *main_slot = NULL, *first = NULL;
	uint64_t drain;

	park_begin_debug(dbg.tid);
	dbg.stopped = true;
	sys_read(dbg.event_fd, &drain, 8); /* every event is looked at now */
	for (int i = 0; i < PARK_MAX_THREADS; i++) {
		if (!s[i].tid || !s[i].uc)
			continue;
		dbg.ctx[i] = (struct x86_regctx){ .uc = s[i].uc,
						  .fs_base = s[i].fs_base,
						  .gs_base = s[i].gs_base,
						  /* mmscope's handler rewrites it */
						  .readonly = s[i].in_handler };
		if (!first)
			first = &s[i];
		if (s[i].tid == agent.pid)
			main_slot = &s[i];
		if (s[i].event && (!ev || s[i].event == EV_STEP))
			ev = &s[i];
	}
	if (from_event && !ev) {
		debug_resume(NULL);
		return false;
	}
	struct park_slot *who = ev ? ev : main_slot ? main_slot : first;
	*st = (struct dbg_stop){ .why = DBG_STOP_SIGNAL, .sig = sig, .tid = who ? who->tid : 0 };
	if (ev) {
		st->sig = SIGTRAP;
		st->why = ev->event == EV_SWBREAK   ? DBG_STOP_SWBREAK
			  : ev->event == EV_HWBREAK ? DBG_STOP_HWBREAK
			  : ev->event == EV_WATCH   ? DBG_STOP_WATCH
			  : ev->event == EV_RWATCH  ? DBG_STOP_RWATCH
			  : ev->event == EV_AWATCH  ? DBG_STOP_AWATCH
						    : DBG_STOP_SIGNAL;
		st->addr = ev->event_addr;
		if (ev->event == EV_SIGNAL)
			st->sig = (int)ev->event_addr;
	}
	for (int i = 0; i < PARK_MAX_THREADS; i++)
		if (s[i].event == EV_SIGNAL)
			s[i].stop_sig = (int)s[i].event_addr;
	for (int i = 0; i < PARK_MAX_THREADS; i++)
		s[i].event = 0;
	dbg.reported = st->tid;
	return true;
}

void debug_target_after_fork(void)
{
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used) {
			mem_patch_text(bps[i].addr, &bps[i].orig, 1);
			bps[i].used = false;
		}
	for (int i = 0; i < STEP_MAX; i++)
		stepping[i] = 0;
	if (dbg.entry) {
		mem_patch_text(dbg.entry, &dbg.entry_orig, 1);
		dbg.entry = 0;
	}
}
