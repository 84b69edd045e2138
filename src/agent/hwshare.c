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
 * Known gaps: a breakpoint opened by an inline `syscall` instruction, or
 * released through dup2/close_range/exit rather than close(), is not seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
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

static long program_bp_open(long attr, long pid, long cpu, long group, long flags)
{
	struct program_bp *bp;
	sigset_t saved;
	long fd;

	mlock_take(&agent.arb_lock, &saved);
	bp = bp_alloc();
	if (!bp) {
		mlock_give(&agent.arb_lock, &saved);
		return sys_call6(SYS_perf_event_open, attr, pid, cpu, group, flags, 0);
	}
	bp->req = (struct arb_req){ .cls = ARB_PROGRAM, .owner = 1, .arg = bp, .slot = -1 };
	/* moves a watch of ours to pages first if every register is taken */
	int slot = arb_request(&agent.arb, &bp->req);
	watch_settle();
	fd = sys_call6(SYS_perf_event_open, attr, pid, cpu, group, flags, 0);
	if (fd < 0 || slot < 0 || nbps == (int)(sizeof(bps) / sizeof(bps[0]))) {
		/* failed, or beyond what we model: it holds nothing of ours */
		arb_release(&agent.arb, &bp->req);
		watch_settle();
		bp_free(bp);
		mlock_give(&agent.arb_lock, &saved);
		if (fd >= 0)
			pr_debug("program breakpoint fd %ld opened beyond the arbiter's slots", fd);
		return fd;
	}
	bp->fd = (int)fd;
	__atomic_store_n(&bps[nbps], bp, __ATOMIC_RELEASE);
	__atomic_store_n(&nbps, nbps + 1, __ATOMIC_RELEASE);
	mlock_give(&agent.arb_lock, &saved);
	if (agent.cfg.verbose)
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
	if (nr == SYS_perf_event_open && agent.active && agent.nwatches &&
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
		arb_release(&agent.arb, &bp->req);
		watch_settle();
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
