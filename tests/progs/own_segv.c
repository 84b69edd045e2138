/* SPDX-License-Identifier: MIT */
/*
 * own_segv: a program with its own ideas about SIGSEGV and SIGTRAP, which
 * also uses a traced memfd ("mmscope-own-segv").  Whatever it prints must be
 * the same natively and under mmscope: the program cannot tell.
 *
 *   own_segv handlers    SA_SIGINFO SIGSEGV handler doing lazy allocation
 *                        (PROT_NONE anonymous pages made RW on first touch)
 *                        and a SIGTRAP handler counting int3s, interleaved
 *                        with traced accesses; sigaction() must hand the
 *                        program its own handlers back
 *   own_segv sa-mask     sigaction() returns the sa_mask the program set,
 *                        including SIGTRAP/SIGSEGV in it
 *   own_segv null        no handler; a NULL write kills it with SIGSEGV
 *   own_segv blocked     sigprocmask + pthread_sigmask block everything,
 *                        then traced accesses from main and from a thread
 *                        created while blocked; both still see SIGSEGV and
 *                        SIGTRAP as blocked when they ask
 *   own_segv resethand   SA_RESETHAND SIGSEGV handler: the first fault is
 *                        handled, the disposition is SIG_DFL afterwards,
 *                        traced accesses still work, the second fault kills
 *   own_segv resethand-query  after an SA_RESETHAND handler ran, sigaction()
 *                        reports what the kernel keeps: handler SIG_DFL,
 *                        sa_flags and sa_mask as the program set them
 *
 * Every traced access is printed as "ACCESS R|W 0x<offset> 0x<value>" (all
 * 8 bytes wide) so a test can compare with the trace.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define LAZY_PAGES 8

static volatile uint64_t *traced;
static uint8_t *lazy;
static volatile sig_atomic_t segv_runs, trap_runs, segv_bad;
static volatile int last_segv_code;

static void store64(volatile uint64_t *p, uint64_t v)
{
	asm volatile("movq %1, %0" : "=m"(*p) : "r"(v) : "memory");
}

static uint64_t load64(volatile uint64_t *p)
{
	uint64_t v;

	asm volatile("movq %1, %0" : "=r"(v) : "m"(*p) : "memory");
	return v;
}

static void traced_write(unsigned idx, uint64_t v)
{
	store64(&traced[idx], v);
	printf("ACCESS W 0x%x 0x%llx\n", idx * 8, (unsigned long long)v);
}

static uint64_t traced_read(unsigned idx)
{
	uint64_t v = load64(&traced[idx]);

	printf("ACCESS R 0x%x 0x%llx\n", idx * 8, (unsigned long long)v);
	return v;
}

static void map_traced(void)
{
	int fd = memfd_create("mmscope-own-segv", 0);

	if (fd < 0 || ftruncate(fd, PAGE) < 0) {
		perror("own_segv: memfd");
		exit(2);
	}
	traced = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (traced == MAP_FAILED) {
		perror("own_segv: mmap");
		exit(2);
	}
}

static void map_lazy(void)
{
	lazy = mmap(NULL, LAZY_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lazy == MAP_FAILED) {
		perror("own_segv: mmap lazy");
		exit(2);
	}
}

static void say(const char *s)
{
	/* async-signal-safe */
	if (write(1, s, strlen(s)) < 0)
		_exit(4);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;

	(void)uc;
	if (sig != SIGSEGV || a < lazy || a >= lazy + LAZY_PAGES * PAGE) {
		say("own_segv: SIGSEGV outside the lazy area\n");
		segv_bad = 1;
		_exit(3);
	}
	last_segv_code = si->si_code;
	if (mprotect((void *)((uintptr_t)a & ~(uintptr_t)(PAGE - 1)), PAGE,
		     PROT_READ | PROT_WRITE) < 0)
		_exit(5);
	segv_runs++;
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (sig == SIGTRAP)
		trap_runs++;
}

static void int3(void)
{
	asm volatile("int3" ::: "memory");
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), int extra_flags,
		   const sigset_t *mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | extra_flags;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* The flags a program may set; the kernel/libc add SA_RESTORER themselves. */
#define USER_FLAGS (SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_ONSTACK | SA_RESETHAND | SA_NOCLDSTOP)

static void report_action(const char *name, int sig, void (*fn)(int, siginfo_t *, void *),
			  int flags)
{
	struct sigaction q;

	memset(&q, 0, sizeof(q));
	if (sigaction(sig, NULL, &q) < 0) {
		printf("sigaction(%s) query failed: %s\n", name, strerror(errno));
		return;
	}
	printf("sigaction(%s) returns own handler: %s\n", name,
	       (q.sa_flags & SA_SIGINFO) && q.sa_sigaction == fn ? "yes" : "no");
	printf("sigaction(%s) flags: 0x%x (set 0x%x)\n", name, q.sa_flags & USER_FLAGS, flags);
}

static int mode_handlers(void)
{
	map_traced();
	map_lazy();
	if (install(SIGSEGV, on_segv, SA_RESTART, NULL) < 0 ||
	    install(SIGTRAP, on_trap, 0, NULL) < 0) {
		perror("own_segv: sigaction");
		return 2;
	}
	report_action("SIGSEGV", SIGSEGV, on_segv, SA_SIGINFO | SA_RESTART);
	report_action("SIGTRAP", SIGTRAP, on_trap, SA_SIGINFO);

	for (unsigned i = 0; i < LAZY_PAGES; i++) {
		volatile uint8_t *p = lazy + i * PAGE;

		p[0] = (uint8_t)(0xa0 + i); /* first touch: our handler maps it */
		p[1] = (uint8_t)(0xb0 + i); /* already RW: no fault */
		traced_write(i, 0x5e600000ull + i);
		int3();
		if (traced_read(i) != 0x5e600000ull + i)
			printf("traced value %u wrong\n", i);
		if (p[0] != 0xa0 + i || p[1] != 0xb0 + i)
			printf("lazy page %u lost its contents\n", i);
		if (last_segv_code != SEGV_ACCERR)
			printf("fault %u: si_code %d, not SEGV_ACCERR\n", i, last_segv_code);
	}
	/* a second round: every lazy page is RW now, no handler runs */
	for (unsigned i = 0; i < LAZY_PAGES; i++)
		lazy[i * PAGE + 2] = 1;
	int3();
	printf("segv handler runs: %d\n", (int)segv_runs);
	printf("trap handler runs: %d\n", (int)trap_runs);
	report_action("SIGSEGV", SIGSEGV, on_segv, SA_SIGINFO | SA_RESTART);
	report_action("SIGTRAP", SIGTRAP, on_trap, SA_SIGINFO);
	return segv_runs == LAZY_PAGES && trap_runs == LAZY_PAGES + 1 ? 0 : 1;
}

static int mode_sa_mask(void)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "SIGSEGV", SIGSEGV },
		{ "SIGTRAP", SIGTRAP },
		{ "SIGUSR1", SIGUSR1 },
	};
	sigset_t mask;
	struct sigaction q;

	map_traced();
	sigemptyset(&mask);
	for (unsigned i = 0; i < 3; i++)
		sigaddset(&mask, sigs[i].sig);
	if (install(SIGSEGV, on_segv, 0, &mask) < 0 || install(SIGTRAP, on_trap, 0, &mask) < 0) {
		perror("own_segv: sigaction");
		return 2;
	}
	traced_write(0, 1);
	for (unsigned h = 0; h < 2; h++) {
		memset(&q, 0, sizeof(q));
		sigaction(sigs[h].sig, NULL, &q);
		for (unsigned i = 0; i < 3; i++)
			printf("sigaction(%s) sa_mask has %s: %s\n", sigs[h].name, sigs[i].name,
			       sigismember(&q.sa_mask, sigs[i].sig) ? "yes" : "no");
	}
	return 0;
}

static int mode_null(void)
{
	map_traced();
	traced_write(0, 0x4e554c4c);
	traced_read(0);
	printf("writing to NULL\n");
	fflush(stdout);
	*(volatile int *)(uintptr_t)0 = 1;
	printf("still alive after writing to NULL\n");
	return 0;
}

static void report_blocked(const char *who, int use_pthread)
{
	sigset_t now;

	sigemptyset(&now);
	if (use_pthread)
		pthread_sigmask(SIG_BLOCK, NULL, &now);
	else
		sigprocmask(SIG_BLOCK, NULL, &now);
	printf("%s: SIGSEGV blocked: %s, SIGTRAP blocked: %s, SIGUSR1 blocked: %s\n", who,
	       sigismember(&now, SIGSEGV) ? "yes" : "no", sigismember(&now, SIGTRAP) ? "yes" : "no",
	       sigismember(&now, SIGUSR1) ? "yes" : "no");
}

static void *blocked_thread(void *arg)
{
	(void)arg;
	/* created with everything blocked: inherits that mask */
	traced_write(2, 0x7472);
	traced_read(2);
	report_blocked("thread (pthread_sigmask)", 1);
	report_blocked("thread (sigprocmask)", 0);
	return NULL;
}

static int mode_blocked(void)
{
	sigset_t all;
	pthread_t th;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0 ||
	    pthread_sigmask(SIG_SETMASK, &all, NULL) != 0) {
		perror("own_segv: blocking");
		return 2;
	}
	map_traced();
	traced_write(0, 0xb10c);
	traced_read(0);
	traced_write(1, 0xb10d);
	traced_read(1);
	fflush(stdout);
	if (pthread_create(&th, NULL, blocked_thread, NULL) != 0)
		return 2;
	pthread_join(th, NULL);
	report_blocked("main (sigprocmask)", 0);
	report_blocked("main (pthread_sigmask)", 1);
	return 0;
}

static void on_segv_once(int sig, siginfo_t *si, void *uc)
{
	on_segv(sig, si, uc);
	say("resethand: handler ran\n");
}

static int mode_resethand(void)
{
	struct sigaction q;

	map_traced();
	map_lazy();
	if (install(SIGSEGV, on_segv_once, SA_RESETHAND, NULL) < 0) {
		perror("own_segv: sigaction");
		return 2;
	}
	traced_write(0, 0x1);
	printf("first fault\n");
	fflush(stdout);
	lazy[0] = 1;
	memset(&q, 0, sizeof(q));
	sigaction(SIGSEGV, NULL, &q);
	printf("after the first fault the disposition is SIG_DFL: %s\n",
	       q.sa_handler == SIG_DFL ? "yes" : "no");
	traced_write(1, 0x2);
	traced_read(0);
	traced_read(1);
	printf("second fault\n");
	fflush(stdout);
	lazy[PAGE] = 1;
	printf("survived the second fault (handler runs %d)\n", (int)segv_runs);
	return 0;
}

static int mode_resethand_query(void)
{
	struct sigaction q;
	sigset_t mask;

	map_traced();
	map_lazy();
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	if (install(SIGSEGV, on_segv, SA_RESETHAND | SA_RESTART, &mask) < 0) {
		perror("own_segv: sigaction");
		return 2;
	}
	traced_write(0, 0x3);
	lazy[0] = 1;
	traced_read(0);
	memset(&q, 0, sizeof(q));
	sigaction(SIGSEGV, NULL, &q);
	printf("handler runs: %d\n", (int)segv_runs);
	printf("after reset: handler is SIG_DFL: %s\n", q.sa_handler == SIG_DFL ? "yes" : "no");
	printf("after reset: sa_flags 0x%x\n", q.sa_flags & USER_FLAGS);
	printf("after reset: sa_mask has SIGUSR1: %s\n",
	       sigismember(&q.sa_mask, SIGUSR1) ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "handlers";
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "handlers"))
		r = mode_handlers();
	else if (!strcmp(mode, "sa-mask"))
		r = mode_sa_mask();
	else if (!strcmp(mode, "null"))
		r = mode_null();
	else if (!strcmp(mode, "blocked"))
		r = mode_blocked();
	else if (!strcmp(mode, "resethand"))
		r = mode_resethand();
	else if (!strcmp(mode, "resethand-query"))
		r = mode_resethand_query();
	else {
		fprintf(stderr,
			"usage: own_segv handlers|sa-mask|null|blocked|resethand|resethand-query\n");
		return 2;
	}
	fflush(stdout);
	return r;
}
