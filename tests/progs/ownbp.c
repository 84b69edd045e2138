/* SPDX-License-Identifier: MIT */
/*
 * ownbp: a program that uses the debug registers itself.  It opens four
 * hardware write breakpoints of its own (perf_event_open through libc's
 * syscall(), with sigtrap and its own SIGTRAP handler) while a thread keeps
 * storing to watched[0], then closes them.  Under `mmscope run --watch
 * watched[0..3]` every open must still succeed and the program must get
 * exactly its own traps, and the other thread's stores, made while mmscope
 * moves its watches between debug registers and pages, must all be seen.
 *
 * Output:
 *   "OPEN <i> ok" or "OPEN <i> <errno text>"
 *   "OWN <i> <traps>"          traps its handler got for breakpoint i
 *   "FOREIGN <n>"              SIGTRAPs that were not its own
 *   "WROTE watched[<i>] <n>"   stores it made to watched[i] (all threads)
 * Exit 0 when all four opened and each trapped exactly STORES times.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sigtrap_bp.h"

#define STORES 10
#define COOKIE 0x1000

/* each on its own page: the program's breakpoints never share a page
 * with what mmscope watches */
volatile uint64_t watched[4] __attribute__((aligned(4096)));
static volatile uint64_t mine[512] __attribute__((aligned(4096)));

static volatile sig_atomic_t own[4], foreign;
static volatile int stop;
static unsigned long wrote[4], hammer_wrote;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	uint64_t cookie;

	(void)sig;
	(void)uc;
	memcpy(&cookie, (char *)si + 24, 8); /* si_perf_data */
	if (si->si_code == 6 /* TRAP_PERF */ && cookie >= COOKIE && cookie < COOKIE + 4)
		own[cookie - COOKIE]++;
	else
		foreign++;
}

static void *hammer(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		watched[0] = hammer_wrote;
		__atomic_store_n(&hammer_wrote, hammer_wrote + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Let the other thread store to watched[0] at least n more times: the
 * moves between debug registers and pages happen while it hammers. */
static void let_hammer(unsigned long n)
{
	unsigned long from = __atomic_load_n(&hammer_wrote, __ATOMIC_RELAXED);

	while (__atomic_load_n(&hammer_wrote, __ATOMIC_RELAXED) - from < n)
		sched_yield();
}

static void store(int i, uint64_t v)
{
	watched[i] = v;
	wrote[i]++;
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;
	int fd[4], ok = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	for (int i = 0; i < 4; i++)
		store(i, 1);
	pthread_create(&t, NULL, hammer, NULL);
	for (int i = 0; i < 4; i++) {
		let_hammer(50);
		fd[i] = sigtrap_bp(&mine[i * 8], HW_BREAKPOINT_W, COOKIE + i);
		printf("OPEN %d %s\n", i, fd[i] >= 0 ? "ok" : strerror(errno));
		ok &= fd[i] >= 0;
		for (int k = 1; k <= 3; k++)
			store(1 + i % 3, k);
	}
	for (int k = 0; k < STORES; k++)
		for (int i = 0; i < 4; i++)
			mine[i * 8] = k;
	for (int i = 0; i < 4; i++) {
		let_hammer(50);
		if (fd[i] >= 0)
			close(fd[i]);
		store(3 - i % 3, 7);
	}
	for (int i = 0; i < 4; i++)
		store(i, 9);
	for (int k = 0; k < STORES; k++)
		mine[0] = k; /* closed: no trap any more */
	let_hammer(50);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	wrote[0] += hammer_wrote;
	for (int i = 0; i < 4; i++) {
		printf("OWN %d %d\n", i, (int)own[i]);
		ok &= own[i] == STORES;
	}
	printf("FOREIGN %d\n", (int)foreign);
	for (int i = 0; i < 4; i++)
		printf("WROTE watched[%d] %lu\n", i, wrote[i]);
	return ok && !foreign ? 0 : 1;
}
