/* SPDX-License-Identifier: MIT */
/*
 * The program's own debug registers come first (the kwatch lesson: a
 * tool must never make the program's debugging fail with ENOSPC/EBUSY).
 * A hardware breakpoint the program opens with perf_event_open -- through
 * libc's syscall(), there is no other wrapper -- is an ARB_PROGRAM request:
 * before the kernel sees it, the arbiter moves mmscope's newest watch out
 * of its register onto pages; when the program closes the breakpoint, the
 * register goes back to the best waiting watch.  Our model is conservative:
 * our watches hold a register on every thread, so one program breakpoint
 * on any thread frees one register everywhere.
 *
 * A debugger that attaches later gets every register too: syscall(),
 * read() and the sleeps are where mmscope notices it (watch_check_tracer())
 * and hands back what it holds.
 *
 * Every data breakpoint the program opens is also remembered (address,
 * length, type, thread, sigtrap), watches or not: an access mmscope would
 * complete for the program on a traced or watched page that such a
 * breakpoint covers runs natively under the trap flag instead, so the
 * debug register sees it (issue 7, C.11).  The kernel merges the
 * breakpoint's TRAP_PERF into the step's own SIGTRAP (measured on 6.18:
 * the count advances, one signal arrives, with TRAP_TRACE), so when the
 * count shows the breakpoint fired, the step hands the program the
 * TRAP_PERF it lost (step.c, fault_on_trap).
 *
 * Known gaps: a breakpoint opened by an inline `syscall` instruction, or
 * released through dup2/close_range/exit rather than close(), is not seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/real.h"
#include "agent/observe.h"
#include "agent/record.h"
#include "mmscope/trace-format.h"
#include "util/hwbp.h"
#include "util/fmt.h"
#include "util/lock.h"
#include "util/proc.h"
#include "util/sys.h"

#define LOG_DOMAIN "hwshare"
#include "util/log.h"

struct program_bp {
	int fd;
	int tid; /* the thread it counts on; 0: any (inherit, cpu-wide) */
	uint64_t addr, len;
	uint32_t type;	/* HW_BREAKPOINT_W / _RW / _X */
	bool sigtrap;	/* a SIGTRAP each sample period */
	bool countable; /* its count can be read (no PERF_FORMAT_GROUP) */
	uint64_t period, sig_data;
	bool arb; /* holds an arbiter request */
	struct arb_req req;
};

static struct program_bp *bps[64]; /* the program's open breakpoints */
static int nbps;
static struct program_bp pool[64]; /* no malloc: arb_lock held */
static bool pool_used[64];

static struct program_bp *bp_alloc(void)
{
	for (int i = 0; i < 64; i++)
		if (!pool_used[i]) {
			pool_used[i] = true;
			memset(&pool[i], 0, sizeof(pool[i]));
			return &pool[i];
		}
	return NULL;
}

static void bp_free(struct program_bp *bp)
{
	pool_used[bp - pool] = false;
}

static bool is_hw_breakpoint(const struct perf_event_attr *a)
{
	return a && a->type == PERF_TYPE_BREAKPOINT && a->bp_type != HW_BREAKPOINT_EMPTY;
}

/* What the kernel will watch, from the attributes it was given (the
 * program's memory: copied before the kernel sees it) */
static void bp_describe(struct program_bp *bp, const struct perf_event_attr *a, long pid, long cpu)
{
	bp->tid = a->inherit || pid < 0 || cpu >= 0 ? 0 : pid ? (int)pid : sys_gettid();
	bp->addr = a->bp_addr;
	bp->len = a->bp_len;
	bp->type = a->bp_type;
	bp->sigtrap = a->sigtrap;
	bp->countable = !(a->read_format & PERF_FORMAT_GROUP);
	bp->period = a->freq || !a->sample_period ? 1 : a->sample_period;
	bp->sig_data = a->sig_data;
}

static long program_bp_open(long attr, long pid, long cpu, long group, long flags)
{
	struct program_bp *bp;
	sigset_t saved;
	long fd;
	int slot = -1;

	mlock_take(&agent.arb_lock, &saved);
	bp = bp_alloc();
	if (!bp) {
		mlock_give(&agent.arb_lock, &saved);
		return sys_call6(SYS_perf_event_open, attr, pid, cpu, group, flags, 0);
	}
	bp_describe(bp, (const struct perf_event_attr *)attr, pid, cpu);
	bp->arb = agent.nwatches > 0;
	if (bp->arb) {
		bp->req = (struct arb_req){ .cls = ARB_PROGRAM, .owner = 1, .arg = bp, .slot = -1 };
		/* moves a watch of ours to pages first if every register is taken */
		slot = arb_request(&agent.arb, &bp->req);
		watch_settle();
	}
	fd = sys_call6(SYS_perf_event_open, attr, pid, cpu, group, flags, 0);
	if (bp->arb && (fd < 0 || slot < 0)) {
		/* failed, or beyond what the arbiter models: it holds nothing of ours */
		arb_release(&agent.arb, &bp->req);
		watch_settle();
		bp->arb = false;
		if (fd >= 0)
			pr_debug("program breakpoint fd %ld opened beyond the arbiter's slots", fd);
	}
	if (fd < 0 || nbps == (int)(sizeof(bps) / sizeof(bps[0]))) {
		bp_free(bp);
		mlock_give(&agent.arb_lock, &saved);
		return fd;
	}
	bp->fd = (int)fd;
	__atomic_store_n(&bps[nbps], bp, __ATOMIC_RELEASE);
	__atomic_store_n(&nbps, nbps + 1, __ATOMIC_RELEASE);
	mlock_give(&agent.arb_lock, &saved);
	if (agent.cfg.verbose && bp->arb)
		pr_info("the program opened a hardware breakpoint (fd %ld): register %d is its own",
			fd, slot);
	return fd;
}

/* No tracer check here: signal handlers call syscall() (SYS_gettid,
 * SYS_tgkill ...), and moving watches is not signal-safe. */
MMS_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	/* the mmap family through libc's syscall(): the one observer */
	switch (nr) {
	case SYS_mmap:
		return obs_errno(obs_mmap((uint64_t)a[0], (uint64_t)a[1], (int)a[2], (int)a[3],
					  (int)a[4], a[5], PC()));
	case SYS_munmap:
		return obs_errno(obs_munmap((uint64_t)a[0], (uint64_t)a[1], PC()));
	case SYS_mremap:
		return obs_errno(obs_mremap((uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
					    (int)a[3], (uint64_t)a[4], PC()));
	case SYS_mprotect:
		return obs_errno(obs_mprotect((uint64_t)a[0], (uint64_t)a[1], (int)a[2], PC()));
	}
	if (nr == SYS_perf_event_open && agent.active &&
	    is_hw_breakpoint((const struct perf_event_attr *)a[0])) {
		long r = program_bp_open(a[0], a[1], a[2], a[3], a[4]);
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
	return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Not one of the program's breakpoints (the common case, and every
 * descriptor of ours): no lock.  bps[] only changes under arb_lock. */
static bool maybe_program_bp(int fd)
{
	int n = __atomic_load_n(&nbps, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		struct program_bp *bp = __atomic_load_n(&bps[i], __ATOMIC_ACQUIRE);
		if (bp && bp->fd == fd)
			return true;
	}
	return false;
}

MMS_EXPORT int close(int fd)
{
	struct program_bp *bp = NULL;
	sigset_t saved;
	int r;

	/* no watch_check_tracer() here: signal handlers may close() */
	if (maybe_program_bp(fd)) {
		mlock_take(&agent.arb_lock, &saved);
		for (int i = 0; i < nbps; i++)
			if (bps[i]->fd == fd) {
				bp = bps[i];
				bps[i] = bps[--nbps];
				break;
			}
		mlock_give(&agent.arb_lock, &saved);
	}
	/* libc's close: a cancellation point, errno as the program expects;
	 * so no lock of ours is held across it */
	r = REAL(close)(fd);
	if (bp) {
		int keep = errno;
		/* the register is free in the kernel now: give it back */
		mlock_take(&agent.arb_lock, &saved);
		if (bp->arb) {
			arb_release(&agent.arb, &bp->req);
			watch_settle();
		}
		bp_free(bp);
		mlock_give(&agent.arb_lock, &saved);
		errno = keep;
	}
	return r;
}

MMS_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	watch_check_tracer();
	return REAL(nanosleep)(req, rem);
}

MMS_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
			       struct timespec *rem)
{
	watch_check_tracer();
	return REAL(clock_nanosleep)(clock, flags, req, rem);
}

/* ---- the program's breakpoints on pages mmscope completes accesses to ---- */

/* signal context: bps[] read without the lock, as maybe_program_bp() */
static bool counts_on(const struct program_bp *bp, int tid)
{
	return bp->type != HW_BREAKPOINT_X && (!bp->tid || bp->tid == tid);
}

/* signal context: has the program any breakpoint open (one load: the
 * fault path asks first) */
bool hwshare_any(void)
{
	return __atomic_load_n(&nbps, __ATOMIC_ACQUIRE) > 0;
}

/* signal context */
bool hwshare_would_trap(int tid, uint64_t addr, uint64_t len, bool rd, bool wr)
{
	int n = __atomic_load_n(&nbps, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		const struct program_bp *bp = __atomic_load_n(&bps[i], __ATOMIC_ACQUIRE);
		if (!bp || !counts_on(bp, tid))
			continue;
		bool dir = wr || (rd && (bp->type & HW_BREAKPOINT_R));
		if (dir && addr < bp->addr + bp->len && bp->addr < addr + len)
			return true;
	}
	return false;
}

/* signal context */
int hwshare_snap(int tid, struct bp_snap *s, int max)
{
	int n = __atomic_load_n(&nbps, __ATOMIC_ACQUIRE), k = 0;

	for (int i = 0; i < n && k < max; i++) {
		const struct program_bp *bp = __atomic_load_n(&bps[i], __ATOMIC_ACQUIRE);
		if (!bp || !counts_on(bp, tid) || !bp->sigtrap || !bp->countable)
			continue;
		int64_t count = hwbp_count(bp->fd);
		if (count < 0)
			continue;
		s[k++] = (struct bp_snap){ .fd = bp->fd,
					   .count = (uint64_t)count,
					   .period = bp->period,
					   .sig_data = bp->sig_data,
					   .bp_addr = bp->addr };
	}
	return k;
}

/* signal context */
bool hwshare_fired(const struct bp_snap *s, int n, siginfo_t *si)
{
	for (int i = 0; i < n; i++) {
		int64_t count = hwbp_count(s[i].fd);
		uint64_t now = (uint64_t)count;
		if (count < 0 || now == s[i].count)
			continue;
		/* one instruction: the period ends when the count crosses a
		 * multiple of it (a reset or a new period by ioctl aside) */
		if (now / s[i].period != s[i].count / s[i].period) {
			hwbp_si_fill(si, s[i].bp_addr, s[i].sig_data);
			return true;
		}
	}
	return false;
}

/* ---- a debugger attaching later ---- */

/* The TracerPid line of /proc/self/status: the pid tracing us, 0 if none,
 * -1 if it cannot be read.  Raw calls: no interposer of ours runs. */
static int tracer_pid(void)
{
	char buf[2048];
	long fd = proc_open("self/status", O_RDONLY), n;
	char *p;

	if (fd < 0)
		return -1;
	n = sys_read((int)fd, buf, sizeof(buf) - 1);
	sys_close((int)fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) : -1;
}

/*
 * Called from the library calls we interpose (normal context, at most
 * every 10 ms): when a debugger has attached since the last look, every
 * register mmscope holds goes back (its watches move to pages) so that the
 * debugger can use them all; when it has gone, mmscope takes its share
 * again.  A debugger that wants every register at the very moment it
 * attaches finds the ones mmscope leaves free by default (--hw-slots).
 */
void watch_check_tracer(void)
{
	static uint64_t next_ns;
	static int seen;
	uint64_t now;
	int tracer;

	if (!agent.active || !agent.nwatches || !agent.cfg.hw_max)
		return;
	now = rec_now();
	if (now < __atomic_load_n(&next_ns, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&next_ns, now + 10000000, __ATOMIC_RELAXED);
	tracer = tracer_pid();
	if (tracer < 0 || (tracer > 0) == (seen > 0))
		return;
	sigset_t saved;
	if (mlock_try(&agent.arb_lock, &saved))
		return; /* someone is moving watches: look next time */
	if ((tracer > 0) != (seen > 0)) {
		char msg[128];
		size_t pos = 0;
		fmt_str(msg, sizeof(msg), &pos, tracer ? "a debugger (pid " : "the debugger (pid ");
		fmt_u64(msg, sizeof(msg), &pos, (uint64_t)(tracer ? tracer : seen));
		fmt_str(msg, sizeof(msg), &pos,
			tracer ? ") attached: mmscope's watches leave the debug registers"
			       : ") detached: mmscope's watches take their debug registers back");
		rec_proc(MMS_PROC_NOTE, tracer, msg);
		if (agent.cfg.verbose)
			pr_info("%s", msg);
		arb_set_tool_max(&agent.arb, tracer ? 0 : agent.cfg.hw_max);
		watch_settle();
		seen = tracer;
	}
	mlock_give(&agent.arb_lock, &saved);
}
