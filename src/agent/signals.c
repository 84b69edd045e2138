/* SPDX-License-Identifier: MIT */
/*
 * Sharing signals with the program.  mmscope keeps its handlers for
 * SIGSEGV, SIGTRAP, AGENT_SIG_PARK, SIGSYS and the other faults (SIGBUS,
 * SIGILL, SIGFPE: so that a debugger stops for them) installed; the program's sigaction
 * calls for them are recorded and answered as if they had taken effect,
 * and faults that are not mmscope's are delivered to the recorded handler
 * with the kernel's semantics (sa_mask, SA_NODEFER, SA_RESETHAND,
 * SA_SIGINFO) or to the default action.  The program may not block these
 * signals for real (a blocked synchronous SIGSEGV kills the process), so
 * masks are filtered and the program is shown the mask it asked for.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/core.h"
#include "agent/debugsock.h"
#include "agent/hot.h"
#include "agent/park.h"
#include "agent/real.h"
#include "agent/seccomp.h"
#include "util/lock.h"
#include "util/sys.h"

#define real_sigaction REAL(sigaction)
#define real_sigprocmask REAL(sigprocmask)
#define real_pthread_sigmask REAL(pthread_sigmask)

static struct sigaction prog_act[_NSIG];
/* owned signals the program put in the sa_mask of other signals' handlers:
 * the kernel gets a mask without them, the program is shown its own */
static sigset_t prog_sa_mask_owned[_NSIG];
static __thread sigset_t prog_blocked; /* owned signals the program "blocked" */

/* The signals whose handlers are ours: faults on traced pages, traps of
 * the single step and of watchpoints, the park signal, the seccomp trap
 * of raw mmap calls, and the program's other faults. */
#define NOWNED 7
/* The first NMASKED of them the program may not block for real; SIGBUS,
 * SIGILL and SIGFPE it may: blocked, a fault the CPU makes meets the
 * default action, as without mmscope, and one sent waits. */
#define NMASKED 4
/* (a function: SIGRTMAX is not a constant in glibc) */
static int owned_sig(size_t i)
{
	static const int fixed[] = { SIGSEGV, SIGTRAP, 0, SIGSYS, SIGBUS, SIGILL, SIGFPE };

	return i == 2 ? AGENT_SIG_PARK : fixed[i];
}

/* A fault the CPU made runs its instruction again after the handler. */
static bool is_fault(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
	       si->si_code > 0;
}

static int owned(int sig)
{
	for (size_t i = 0; i < NOWNED; i++)
		if (owned_sig(i) == sig)
			return 1;
	return 0;
}

static void strip_owned(sigset_t *s)
{
	for (size_t i = 0; i < NMASKED; i++)
		sigdelset(s, owned_sig(i));
}

/* Add to dst the owned signals that are members of src. */
static void add_owned(sigset_t *dst, const sigset_t *src)
{
	for (size_t i = 0; i < NMASKED; i++)
		if (sigismember(src, owned_sig(i)))
			sigaddset(dst, owned_sig(i));
}

/* signal context: SIGBUS, SIGILL, SIGFPE are always the program's; a
 * debugger connected stops for them first (debug_on_signal) */
static void on_program_fault(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	if (!hot_fix(sig, si, uc)) { /* comes again once the access is done */
		errno = saved;
		return;
	}
	/* mmscope's own fault (a truncated file under an alias, say) is not
	 * stopped for: the thread may hold a lock the stop needs */
	if (agent.active &&
	    !debug_in_agent((uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]) &&
	    debug_on_signal(sig, si))
		debug_after_fault(uc);
	else
		signals_chain(sig, si, uc);
	errno = saved;
}

/* signal context */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	if (seccomp_on_sigsys(si, uc)) {
		errno = saved;
		return;
	}
	errno = saved;
	signals_chain(sig, si, uc);
}

/*
 * Borrowed signals.  From the first debugger connection on, every other
 * signal (from the start, those that dump core: for core.c) that would
 * interrupt the program anyway -- it has a handler, or
 * its default action ends the process -- gets our handler too, so that
 * gdb stops for it as it would under ptrace (a SIGABRT from abort(), a
 * SIGUSR1 sent by another process).  The program's disposition stays in
 * prog_act and its sigaction calls are answered from there, as for the
 * owned signals; ours carries the program's SA_RESTART, so an interrupted
 * system call restarts or fails with EINTR as it would have.  Signals the
 * program ignores, or whose default action is to ignore or to stop, are
 * never borrowed: a handler there would interrupt system calls that
 * natively go on.  The program blocks borrowed signals for real.  Kept
 * until exec (which resets handlers); a fork child chains them.
 */
static uint64_t borrowed; /* bit sig-1: our handler stands in now */
static uint64_t tracked;  /* bit sig-1: the disposition is kept in prog_act */
static struct mlock borrow_lock = MLOCK_INIT;

static bool is_borrowed(int sig)
{
	return sig > 0 && sig <= 64 &&
	       (__atomic_load_n(&borrowed, __ATOMIC_ACQUIRE) >> (sig - 1) & 1);
}

static bool borrowable(int sig)
{
	/* glibc keeps 32 and 33 (SIGCANCEL, SIGSETXID) for itself */
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP && !owned(sig) &&
	       (sig < 32 || sig >= SIGRTMIN);
}

/* would the disposition a take the program away from what it was doing? */
static bool interrupts(int sig, const struct sigaction *a)
{
	if (a->sa_handler == SIG_IGN)
		return false;
	if (a->sa_handler != SIG_DFL)
		return true;
	return sig != SIGCHLD && sig != SIGURG && sig != SIGWINCH && sig != SIGCONT &&
	       sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU;
}

/* Give the kernel what prog_act[sig] asks for: ours in its place, or the
 * program's own.  borrow_lock held. */
static void settle(int sig)
{
	struct sigaction sa = prog_act[sig];
	uint64_t bit = 1ull << (sig - 1);

	if (interrupts(sig, &sa)) {
		/* a default action would end the process: with no handler of
		 * the program's to see an EINTR, a call the debugger kept the
		 * signal from (gdb's `signal 0`) restarts */
		int restart = sa.sa_handler == SIG_DFL ? SA_RESTART : sa.sa_flags & SA_RESTART;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_program_fault;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | restart;
		signals_async_set(&sa.sa_mask);
		if (real_sigaction(sig, &sa, NULL) == 0)
			__atomic_or_fetch(&borrowed, bit, __ATOMIC_RELEASE);
		return;
	}
	strip_owned(&sa.sa_mask);
	real_sigaction(sig, &sa, NULL);
	__atomic_and_fetch(&borrowed, ~bit, __ATOMIC_RELEASE);
}

void signals_borrow(uint64_t which)
{
	sigset_t saved;

	mlock_take(&borrow_lock, &saved);
	for (int sig = 1; sig <= 64 && sig < _NSIG; sig++) {
		uint64_t bit = 1ull << (sig - 1);
		if (!(which & bit) || (tracked & bit) || !borrowable(sig) ||
		    real_sigaction(sig, NULL, &prog_act[sig]) < 0)
			continue;
		add_owned(&prog_act[sig].sa_mask, &prog_sa_mask_owned[sig]);
		__atomic_or_fetch(&tracked, bit, __ATOMIC_RELEASE);
		settle(sig);
	}
	mlock_give(&borrow_lock, &saved);
}

static int plain_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* the program's sigaction for a borrowable signal: answered from
 * prog_act once borrowing is on (under the lock, so that signals_borrow
 * never misses a change) */
static int borrowable_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	sigset_t saved;
	int r = 0;

	mlock_take(&borrow_lock, &saved);
	if (!(tracked >> (sig - 1) & 1)) {
		r = plain_sigaction(sig, act, old);
	} else {
		if (old)
			*old = prog_act[sig];
		if (act) {
			prog_act[sig] = *act;
			settle(sig);
		}
	}
	mlock_give(&borrow_lock, &saved);
	return r;
}

/* signal context: SA_RESETHAND took the program's handler away */
static void borrowed_reset(int sig)
{
	sigset_t saved;

	if (!is_borrowed(sig))
		return;
	mlock_take(&borrow_lock, &saved);
	settle(sig);
	mlock_give(&borrow_lock, &saved);
}

int signals_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return real_sigaction(sig, act, old);
}

void signals_async_set(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGTRAP);
	sigdelset(set, SIGSYS);
	sigdelset(set, AGENT_SIG_PARK);
}

void signals_block_all(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	sys_rt_sigprocmask(SIG_BLOCK, &all, old);
}

void signals_restore(const sigset_t *old)
{
	sys_rt_sigprocmask(SIG_SETMASK, old, NULL);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER;
	/* Asynchronous signals wait until the handler is done: the per-thread
	 * stream and instruction cache are not re-entrant.  Synchronous ones
	 * and our own stay deliverable. */
	signals_async_set(&sa.sa_mask);
	if (real_sigaction(sig, &sa, &old) == 0 &&
	    (old.sa_flags & SA_SIGINFO ? old.sa_sigaction != fn : 1))
		prog_act[sig] = old;
}

void signals_install(void)
{
	install(SIGSEGV, fault_on_segv);
	install(SIGTRAP, fault_on_trap);
	install(AGENT_SIG_PARK, park_on_signal);
	install(SIGSYS, on_sigsys);
	install(SIGBUS, on_program_fault);
	install(SIGILL, on_program_fault);
	install(SIGFPE, on_program_fault);
}

/* An exec keeps ignored signals ignored: for the faults the program may
 * ignore (SIGBUS, SIGILL, SIGFPE), the new image must find SIG_IGN where
 * the program set it, not our handler (which exec would reset to the
 * default).  Handlers are reset by exec in any case. */
void signals_before_exec(void)
{
	for (size_t i = NMASKED; i < NOWNED; i++)
		if (prog_act[owned_sig(i)].sa_handler == SIG_IGN)
			real_sigaction(owned_sig(i), &prog_act[owned_sig(i)], NULL);
}

void signals_after_failed_exec(void)
{
	for (size_t i = NMASKED; i < NOWNED; i++)
		if (prog_act[owned_sig(i)].sa_handler == SIG_IGN)
			install(owned_sig(i), on_program_fault);
}

bool signals_chain_kills(int sig, const siginfo_t *si)
{
	/* the default action of every signal we own or borrow ends the
	 * process; an ignored fault runs again and meets it */
	return prog_act[sig].sa_handler == SIG_DFL ||
	       (prog_act[sig].sa_handler == SIG_IGN && is_fault(sig, si));
}

/* signal context: deliver sig to the program as the kernel would have */

void signals_chain(int sig, siginfo_t *si, void *ucv)
{
	struct sigaction *pa = &prog_act[sig];
	ucontext_t *uc = ucv;
	sigset_t mask, inside;

	hot_fix(0, si, uc); /* the program sees its own code, never a stub */
	int dying = core_dying_of();
	if (dying && dying != sig) {
		/* the core writer crashed: the program dies of what it was
		 * dying of, as without mmscope */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t one;
		real_sigaction(dying, &dfl, NULL);
		sigemptyset(&one);
		sigaddset(&one, dying);
		sys_rt_sigprocmask(SIG_UNBLOCK, &one, NULL);
		sys_tgkill(sys_getpid(), sys_gettid(), dying);
	}
	if (pa->sa_handler == SIG_IGN && si->si_code <= 0)
		return; /* an ignored signal sent by someone */
	if (pa->sa_handler == SIG_DFL || pa->sa_handler == SIG_IGN) {
		struct sigaction dfl;
		if (core_signal(sig))
			core_on_fatal(sig, si, uc); /* it dies of it next */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		if (sig == AGENT_SIG_PARK || (sig != SIGSEGV && sig != SIGTRAP)) {
			/* default action of a real-time signal: terminate */
		}
		real_sigaction(sig, &dfl, NULL);
		/* A fault re-executes and meets the default action itself;
		 * anything else is raised again. */
		if (!is_fault(sig, si)) {
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, sig);
			sys_rt_sigprocmask(SIG_UNBLOCK, &one, NULL);
			sys_tgkill(sys_getpid(), sys_gettid(), sig);
		}
		return;
	}
	mask = uc->uc_sigmask;
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(&pa->sa_mask, s))
			sigaddset(&mask, s);
	if (!(pa->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	strip_owned(&mask);
	void (*handler)(int) = pa->sa_handler;
	void (*action)(int, siginfo_t *, void *) = pa->sa_sigaction;
	int info = pa->sa_flags & SA_SIGINFO;
	if (pa->sa_flags & SA_RESETHAND) {
		pa->sa_handler = SIG_DFL; /* the kernel keeps flags and mask */
		borrowed_reset(sig);
	}
	sys_rt_sigprocmask(SIG_SETMASK, &mask, &inside);
	ucontext_t *outer;
	park_handler_enter(NULL, &outer); /* the program's handler is its own code */
	park_handler_leave(NULL);
	if (info)
		action(sig, si, ucv);
	else
		handler(sig);
	park_handler_leave(outer);
	sys_rt_sigprocmask(SIG_SETMASK, &inside, NULL);
}

MMS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!agent.active || sig <= 0 || sig >= _NSIG)
		return real_sigaction(sig, act, old);
	if (owned(sig)) {
		if (old)
			*old = prog_act[sig];
		if (act)
			prog_act[sig] = *act; /* owned signals stripped when used */
		return 0;
	}
	if (borrowable(sig))
		return borrowable_sigaction(sig, act, old);
	return plain_sigaction(sig, act, old);
}

/* the kernel's disposition, with the owned signals kept out of its mask */
static int plain_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction copy;
	sigset_t shown;
	int r;

	shown = prog_sa_mask_owned[sig];
	if (act) {
		copy = *act;
		strip_owned(&copy.sa_mask);
	}
	r = real_sigaction(sig, act ? &copy : NULL, old);
	if (r == 0) {
		if (old)
			add_owned(&old->sa_mask, &shown);
		if (act) {
			sigemptyset(&prog_sa_mask_owned[sig]);
			add_owned(&prog_sa_mask_owned[sig], &act->sa_mask);
		}
	}
	return r;
}

MMS_EXPORT __sighandler_t signal(int sig, __sighandler_t handler)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART; /* BSD semantics, as glibc's signal() */
	sigemptyset(&sa.sa_mask);
	if (sig > 0 && sig < _NSIG)
		sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

static int filter_mask(int how, const sigset_t *set, sigset_t *old,
		       int (*real)(int, const sigset_t *, sigset_t *))
{
	sigset_t copy, believed = prog_blocked;
	int r;

	if (!agent.active || !set) {
		r = real(how, set, old);
		goto report;
	}
	copy = *set;
	if (how == SIG_SETMASK)
		sigemptyset(&prog_blocked);
	for (size_t i = 0; i < NMASKED; i++) {
		if (!sigismember(set, owned_sig(i)))
			continue;
		if (how == SIG_BLOCK || how == SIG_SETMASK)
			sigaddset(&prog_blocked, owned_sig(i));
		else if (how == SIG_UNBLOCK)
			sigdelset(&prog_blocked, owned_sig(i));
	}
	strip_owned(&copy);
	r = real(how, &copy, old);
report:
	if (old && r == 0 && agent.active)
		add_owned(old, &believed);
	return r;
}

struct thread_start {
	void *(*fn)(void *);
	void *arg;
	sigset_t blocked;
	atomic_bool busy; /* a slot of starts[] handed to a thread not yet running */
};

/* Where a new thread's start is passed: slots here, not the heap, because
 * a thread's first free() makes glibc give it a tcache and often an arena
 * of its own (a 64 MiB reservation) that the program, never calling
 * malloc there, would not have had.  malloc only when every slot is in
 * use. */
static struct thread_start starts[64];

static struct thread_start *start_slot(void)
{
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		bool idle = false;
		if (atomic_compare_exchange_strong_explicit(&starts[i].busy, &idle, true,
							    memory_order_acquire,
							    memory_order_relaxed))
			return &starts[i];
	}
	struct thread_start *st = malloc(sizeof(*st));
	if (st)
		atomic_init(&st->busy, true);
	return st;
}

static void start_slot_drop(struct thread_start *st)
{
	if (st >= starts && st < starts + sizeof(starts) / sizeof(starts[0]))
		atomic_store_explicit(&st->busy, false, memory_order_release);
	else
		free(st);
}

static void thread_exiting(void *unused)
{
	(void)unused;
	thread_release();
}

static void *thread_trampoline(void *p)
{
	struct thread_start *given = p, st = *given;
	void *ret;

	start_slot_drop(given);
	prog_blocked = st.blocked; /* a new thread inherits its mask */
	/* runs on return, pthread_exit and cancellation alike */
	pthread_cleanup_push(thread_exiting, NULL);
	ret = st.fn(st.arg);
	pthread_cleanup_pop(1);
	return ret;
}

MMS_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			      void *arg)
{
	typeof(REAL(pthread_create)) real = REAL(pthread_create);
	struct thread_start *st;

	if (!agent.active || !(st = start_slot()))
		return real(th, attr, fn, arg);
	st->fn = fn;
	st->arg = arg;
	st->blocked = prog_blocked;
	int r = real(th, attr, thread_trampoline, st);
	if (r)
		start_slot_drop(st);
	return r;
}

MMS_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return filter_mask(how, set, old, real_sigprocmask);
}

MMS_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return filter_mask(how, set, old, real_pthread_sigmask);
}
