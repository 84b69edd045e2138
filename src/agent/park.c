/* SPDX-License-Identifier: MIT */
/*
 * Parking the other threads (see park.h).  A thread parks inside its
 * AGENT_SIG_PARK handler, so whatever it was doing (user code, a system
 * call, a nested handler) waits with it.  Threads created while we scan
 * are caught by scanning again once everyone signalled is parked.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <fcntl.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "agent/park.h"
#include "util/fmt.h"
#include "util/proc.h"
#include "util/sys.h"

static struct {
	int lock;    /* one stop at a time */
	int release; /* bumped to let parked threads go */
	int parked;  /* threads currently parked */
	int owner;   /* tid running the stop */
	int exempt;  /* the debugger's thread */
	int debug;   /* the stop is the debugger's: give parked threads slots */
} park;

static struct park_slot slots[PARK_MAX_THREADS];

/* The threads signalled by the stop in progress, and the system call each
 * was waiting in when it was signalled (-1 none); park.lock serialises. */
static int stop_tids[PARK_MAX_THREADS], stop_waits[PARK_MAX_THREADS];
static int stop_ntids;
static __thread ucontext_t *handler_uc; /* see park_handler_enter() */

void park_handler_enter(ucontext_t *uc, ucontext_t **saved)
{
	*saved = handler_uc;
	if (!handler_uc)
		handler_uc = uc;
}

void park_handler_leave(ucontext_t *saved)
{
	handler_uc = saved;
}

struct park_slot *park_slots(void)
{
	return slots;
}

void park_exempt(int tid)
{
	__atomic_store_n(&park.exempt, tid, __ATOMIC_RELEASE);
}

/* signal context: tid's slot, claimed if it has none (NULL: table full) */
static struct park_slot *slot_get(int tid)
{
	for (int i = 0; i < PARK_MAX_THREADS; i++)
		if (__atomic_load_n(&slots[i].tid, __ATOMIC_ACQUIRE) == tid)
			return &slots[i];
	for (int i = 0; i < PARK_MAX_THREADS; i++) {
		int free_tid = 0;
		if (__atomic_compare_exchange_n(&slots[i].tid, &free_tid, tid, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			slots[i].uc = NULL;
			slots[i].event = 0;
			slots[i].fs_base_set = slots[i].gs_base_set = false;
			slots[i].in_handler = false;
			return &slots[i];
		}
	}
	return NULL;
}

/* signal context: the slot's thread publishes where it stopped */
static void slot_enter(struct park_slot *s, ucontext_t *uc)
{
	s->uc = uc;
	sys_call2(SYS_arch_prctl, ARCH_GET_FS, &s->fs_base);
	sys_call2(SYS_arch_prctl, ARCH_GET_GS, &s->gs_base);
}

/* signal context: held until the debugger clears the hold */
static void slot_hold(struct park_slot *s)
{
	while (__atomic_load_n(&s->hold, __ATOMIC_ACQUIRE))
		sys_futex(&s->hold, FUTEX_WAIT, 1, NULL);
}

/* signal context: the thread runs again; what the debugger changed that
 * only the thread itself can apply, it applies now */
static void slot_leave(struct park_slot *s)
{
	if (s->fs_base_set)
		sys_call2(SYS_arch_prctl, ARCH_SET_FS, s->fs_base);
	if (s->gs_base_set)
		sys_call2(SYS_arch_prctl, ARCH_SET_GS, s->gs_base);
	s->uc = NULL;
	s->event = 0;
	s->in_handler = false;
	__atomic_store_n(&s->tid, 0, __ATOMIC_RELEASE);
}

/* signal context: the system call thread tid waits in
 * (/proc/self/task/TID/syscall), or -1: it runs, or cannot be seen */
static int waiting_in(int tid)
{
	char rel[48], buf[24];
	size_t pos = 0;
	long fd, n;

	fmt_str(rel, sizeof(rel), &pos, "self/task/");
	fmt_u64(rel, sizeof(rel), &pos, (uint64_t)tid);
	fmt_str(rel, sizeof(rel), &pos, "/syscall");
	if ((fd = proc_open(rel, O_RDONLY)) < 0)
		return -1;
	n = sys_read((int)fd, buf, sizeof(buf) - 1);
	sys_close((int)fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1; /* "running", or "-1 ..." (a thread in no system call) */
	int nr = 0;
	for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		nr = nr * 10 + (buf[i] - '0');
	return nr;
}

/* System calls that end with EINTR when a signal handler runs, although
 * no handler of the program's ran: our park's handler must not be seen.
 * Run again with the same arguments, they wait as before (a relative
 * timeout starts again; select and ppoll have counted theirs down). */
static bool restarts(int nr)
{
	switch (nr) {
	case SYS_poll:
	case SYS_select:
	case SYS_pause:
	case SYS_nanosleep:
	case SYS_rt_sigtimedwait:
	case SYS_rt_sigsuspend:
	case SYS_futex:
	case SYS_clock_nanosleep:
	case SYS_epoll_wait:
	case SYS_pselect6:
	case SYS_ppoll:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_io_uring_enter:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_msgsnd:
	case SYS_msgrcv:
	case SYS_mq_timedsend:
	case SYS_mq_timedreceive:
		return true;
	default:
		return false;
	}
}

/* signal context: if the park's signal cut short the system call this
 * thread was waiting in (it returns EINTR, as after any handler), make
 * the thread run it again when the park ends, as if it had never been
 * interrupted */
static void undo_eintr(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	int tid = (int)sys_gettid(), nr = -1;
	uint8_t insn[2];
	struct iovec local = { insn, 2 }, remote = { (void *)(g[REG_RIP] - 2), 2 };

	if (g[REG_RAX] != -EINTR)
		return;
	for (int i = 0; i < __atomic_load_n(&stop_ntids, __ATOMIC_ACQUIRE); i++)
		if (stop_tids[i] == tid)
			nr = stop_waits[i];
	if (nr < 0 || !restarts(nr) ||
	    sys_call6(SYS_process_vm_readv, agent.pid, (long)&local, 1, (long)&remote, 1, 0) != 2 ||
	    insn[0] != 0x0f || insn[1] != 0x05)
		return;
	g[REG_RIP] -= 2;
	g[REG_RAX] = nr;
}

/* signal context */
void park_on_signal(int sig, siginfo_t *si, void *uc)
{
	int gen = __atomic_load_n(&park.release, __ATOMIC_ACQUIRE);
	struct park_slot *s = NULL;
	bool outer = false;

	if (!__atomic_load_n(&park.lock, __ATOMIC_ACQUIRE) || si->si_code != SI_TKILL ||
	    si->si_pid != agent.pid) {
		signals_chain(sig, si, uc);
		return;
	}
	if (!hot_fix(sig, si, uc))
		return; /* parks once its access is done */
	undo_eintr(uc);
	if (__atomic_load_n(&park.debug, __ATOMIC_ACQUIRE)) {
		/* the outermost park of this thread holds the program's
		 * context; a nested one (parked again while held, or while
		 * it stops itself) leaves it be */
		s = slot_get((int)sys_gettid());
		if (s && !s->uc) {
			slot_enter(s, handler_uc ? handler_uc : uc);
			s->in_handler = handler_uc != NULL;
			outer = true;
		}
	}
	__atomic_add_fetch(&park.parked, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&park.release, __ATOMIC_ACQUIRE) == gen)
		sys_futex(&park.release, FUTEX_WAIT, gen, NULL);
	__atomic_sub_fetch(&park.parked, 1, __ATOMIC_ACQ_REL);
	if (s)
		slot_hold(s);
	if (outer)
		slot_leave(s);
}

struct signal_scan {
	int self;
	int *tids;
	int *ntids;
	int added;
};

/* signal context: one thread of /proc/self/task */
static int signal_one(void *arg, int tid)
{
	struct signal_scan *sc = arg;
	bool known = tid == sc->self || tid == __atomic_load_n(&park.exempt, __ATOMIC_ACQUIRE);

	for (int i = 0; i < *sc->ntids && !known; i++)
		known = sc->tids[i] == tid;
	if (tid <= 0 || known || *sc->ntids == PARK_MAX_THREADS)
		return 0;
	/* published before the signal: its handler looks for it */
	sc->tids[*sc->ntids] = tid;
	stop_waits[*sc->ntids] = waiting_in(tid);
	__atomic_store_n(&stop_ntids, *sc->ntids + 1, __ATOMIC_RELEASE);
	if (sys_tgkill(agent.pid, tid, AGENT_SIG_PARK) == 0) {
		(*sc->ntids)++;
		sc->added++;
	}
	__atomic_store_n(&stop_ntids, *sc->ntids, __ATOMIC_RELEASE);
	return 0;
}

/* signal context: signal every thread in /proc/self/task not signalled
 * yet (through the /proc descriptor opened at start: the program may have
 * chrooted); returns how many were added to tids[] */
static int signal_new_threads(int self, int *tids, int *ntids)
{
	struct signal_scan sc = { .self = self, .tids = tids, .ntids = ntids };

	proc_each_task(signal_one, &sc);
	return sc.added;
}

/* signal context: how many of the signalled threads still exist */
static int alive(const int *tids, int ntids)
{
	int n = 0;

	for (int i = 0; i < ntids; i++)
		n += sys_tgkill(agent.pid, tids[i], 0) == 0;
	return n;
}

/* signal context: until every signalled thread that still exists is
 * parked (a thread that exits before it parks never will) */
static void wait_parked(const int *tids, int ntids)
{
	for (long spins = 0; spins < 2000000; spins++) {
		int parked = __atomic_load_n(&park.parked, __ATOMIC_ACQUIRE);
		if (parked >= ntids || (spins % 64 == 63 && parked >= alive(tids, ntids)))
			return;
		sys_call0(SYS_sched_yield);
	}
}

/*
 * signal context: signal every other thread, wait until all are parked.
 * A thread created while we scan (its parent was inside clone() when its
 * park signal came) is not in the first scan and would run untraced:
 * scan again once everyone signalled is parked, until a scan finds nobody
 * new.  Parked threads cannot create threads, so the last scan saw them
 * all.
 */
static void park_others(int self)
{
	int *tids = stop_tids, ntids = 0;

	__atomic_store_n(&stop_ntids, 0, __ATOMIC_RELEASE);

	for (int round = 0; round < 64; round++) {
		int added = signal_new_threads(self, tids, &ntids);
		if (round && !added)
			break;
		wait_parked(tids, ntids);
	}
}

void park_begin(int self)
{
	while (__atomic_exchange_n(&park.lock, 1, __ATOMIC_ACQ_REL))
		sys_call0(SYS_sched_yield);
	park.owner = self;
	park_others(self);
}

void park_begin_debug(int self)
{
	while (__atomic_exchange_n(&park.lock, 1, __ATOMIC_ACQ_REL))
		sys_call0(SYS_sched_yield);
	park.owner = self;
	__atomic_store_n(&park.debug, 1, __ATOMIC_RELEASE);
	park_others(self);
	for (int i = 0; i < PARK_MAX_THREADS; i++)
		if (__atomic_load_n(&slots[i].tid, __ATOMIC_ACQUIRE))
			__atomic_store_n(&slots[i].hold, 1, __ATOMIC_RELEASE);
}

void park_end(void)
{
	__atomic_store_n(&park.debug, 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&park.release, 1, __ATOMIC_ACQ_REL);
	sys_futex(&park.release, FUTEX_WAKE, 1 << 30, NULL);
	for (long spins = 0; __atomic_load_n(&park.parked, __ATOMIC_ACQUIRE) > 0 && spins < 2000000;
	     spins++)
		sys_call0(SYS_sched_yield);
	park.owner = 0;
	__atomic_store_n(&park.lock, 0, __ATOMIC_RELEASE);
}

bool park_held_by(int tid)
{
	return __atomic_load_n(&park.lock, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&park.owner, __ATOMIC_ACQUIRE) == tid;
}

void park_unhold(struct park_slot *s)
{
	/* only a wake: the hold was cleared before the park ended, and the
	 * thread may have run and held itself again since (a new stop) */
	sys_futex(&s->hold, FUTEX_WAKE, 1 << 30, NULL);
}

int park_stop_self(ucontext_t *uc, int why, uint64_t addr, void (*notify)(void))
{
	sigset_t park_sig, saved;
	struct park_slot *s;

	/* published whole before a park can look at it: a park arriving
	 * half-way would take the slot for itself, with its own context */
	sigemptyset(&park_sig);
	sigaddset(&park_sig, AGENT_SIG_PARK);
	sys_rt_sigprocmask(SIG_BLOCK, &park_sig, &saved);
	s = slot_get((int)sys_gettid());
	if (s) {
		slot_enter(s, uc);
		s->event_addr = addr;
		__atomic_store_n(&s->hold, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&s->event, why, __ATOMIC_RELEASE);
	}
	sys_rt_sigprocmask(SIG_SETMASK, &saved, NULL);
	if (!s)
		return 0; /* no room to be seen: it runs on */
	s->resume_sig = 0;
	notify();
	slot_hold(s);
	int sig = s->resume_sig;
	slot_leave(s);
	return sig;
}
