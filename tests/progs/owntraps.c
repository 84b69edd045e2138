/* SPDX-License-Identifier: MIT */
/*
 * owntraps: a program that relies on its own SIGSEGV handler (lazy
 * allocation: a page it keeps PROT_NONE until first touched) and its own
 * SIGTRAP handler (int3), on the very pages tests watch (lazy[1], counter).
 * Its output must be the same with and without mmscope.
 *
 * Output: "SEGV <n>" faults its handler resolved, "INT3 <n>" int3 traps its
 * handler saw (each with si_code SI_KERNEL), "LAZY <lazy[0]> <lazy[1]>",
 * "COUNTER <counter>".
 *
 *   owntraps resethand   the SIGTRAP handler has SA_RESETHAND and an
 *                        sa_mask with SIGUSR1: it prints "MASKED <0|1>"
 *                        (SIGUSR1 blocked inside it) once; the second int3
 *                        then takes the default action (the process dies
 *                        of SIGTRAP) after "SECOND".
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

volatile uint64_t lazy[512] __attribute__((aligned(4096)));
volatile uint64_t counter;
static volatile sig_atomic_t segvs, int3s, strange;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if ((uintptr_t)si->si_addr - (uintptr_t)lazy >= sizeof(lazy))
		abort(); /* not ours: a real crash */
	mprotect((void *)lazy, sizeof(lazy), PROT_READ | PROT_WRITE);
	segvs++;
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_KERNEL)
		int3s++;
	else
		strange++;
}

static void on_trap_once(int sig, siginfo_t *si, void *uc)
{
	sigset_t now;

	(void)sig;
	(void)si;
	(void)uc;
	counter = 10; /* a watched store inside the handler */
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("MASKED %d\n", sigismember(&now, SIGUSR1));
}

static int resethand(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sa.sa_sigaction = on_trap_once;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigaction(SIGTRAP, &sa, NULL);
	counter = 1;
	__asm__ volatile("int3");
	printf("SECOND\n");
	fflush(stdout);
	counter = 2;
	__asm__ volatile("int3"); /* default action now */
	printf("NOT REACHED\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "resethand"))
		return resethand();
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);

	mprotect((void *)lazy, sizeof(lazy), PROT_NONE);
	lazy[0] = 5; /* faults once: the handler opens the page */
	lazy[1] = 6;
	lazy[1] = 7;
	for (int i = 1; i <= 3; i++) {
		counter = (uint64_t)i;
		__asm__ volatile("int3");
	}
	printf("SEGV %d\nINT3 %d\nSTRANGE %d\nLAZY %lu %lu\nCOUNTER %lu\n", (int)segvs, (int)int3s,
	       (int)strange, (unsigned long)lazy[0], (unsigned long)lazy[1],
	       (unsigned long)counter);
	return 0;
}
