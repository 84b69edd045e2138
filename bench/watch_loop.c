/* SPDX-License-Identifier: MIT */
/*
 * watch_loop: workloads for the watchpoint benchmarks (bench/watch.sh).
 *
 *   watch_loop hit N      N 8-byte stores to g.target (offset 0 of g)
 *   watch_loop miss N     N stores to g.neighbour, another line of the
 *                         same page (offset 64): what a page watch on
 *                         g.target costs other bytes of its page
 *   watch_loop spread N   N stores g.w[i % 64] = i (offsets 128 + 8k): a
 *                         program touching 64 variables in turn
 *   watch_loop hwbare N   like hit, with a debug register of its own on
 *                         g.target (perf_event_open, sigtrap) and a
 *                         handler that only counts: the bare cost of a
 *                         data breakpoint trap on this machine
 *
 * A third argument IDLE starts that many threads that wait in poll()
 * meanwhile: every stop mmscope makes parks them.
 *
 * hit and miss time their loop in-process after 1024 untimed warm-up
 * stores and print "mode=M stores=N loop_ns=T ns_per_store=F"; spread
 * prints "mode=spread stores=N sum=S" (the whole process is timed from
 * outside).
 */
#include <inttypes.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct page {
	volatile uint64_t target;
	uint64_t pad0[7];
	volatile uint64_t neighbour;
	uint64_t pad1[7];
	volatile uint64_t w[64];
};

struct page g __attribute__((aligned(4096)));

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stores(volatile uint64_t *p, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		*p = i;
}

static volatile unsigned long traps;

static void on_trap(int sig)
{
	(void)sig;
	traps++;
}

/* A write breakpoint of our own on g.target whose hits are SIGTRAPs. */
static int own_breakpoint(void)
{
	struct perf_event_attr a;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)&g.target;
	a.bp_len = 8;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void *idle(void *arg)
{
	struct pollfd p = { .fd = (int)(long)arg, .events = POLLIN };

	for (;;)
		poll(&p, 1, -1);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	for (long i = argc > 3 ? atol(argv[3]) : 0; i > 0; i--) {
		pthread_t th;
		int fds[2]; /* on the stack: a watched page may hold the globals */
		if (pipe(fds) < 0 || pthread_create(&th, NULL, idle, (void *)(long)fds[0])) {
			perror("idle thread");
			return 1;
		}
	}

	if (argc > 2 &&
	    (!strcmp(argv[1], "hit") || !strcmp(argv[1], "miss") || !strcmp(argv[1], "hwbare"))) {
		volatile uint64_t *p = argv[1][0] == 'm' ? &g.neighbour : &g.target;
		uint64_t t0, t1;
		if (argv[1][0] == 'h' && argv[1][1] == 'w' && own_breakpoint() < 0) {
			perror("perf_event_open");
			return 77;
		}
		stores(p, 1024);
		t0 = now_ns();
		stores(p, n);
		t1 = now_ns();
		printf("mode=%s stores=%lu loop_ns=%" PRIu64 " ns_per_store=%.1f traps=%lu\n",
		       argv[1], n, t1 - t0, n ? (double)(t1 - t0) / (double)n : 0.0, traps);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "spread")) {
		uint64_t sum = 0;
		for (unsigned long i = 0; i < n; i++)
			g.w[i % 64] = i;
		for (int k = 0; k < 64; k++)
			sum += g.w[k];
		printf("mode=spread stores=%lu sum=%" PRIu64 "\n", n, sum);
		return 0;
	}
	fprintf(stderr, "usage: watch_loop hit|miss|hwbare|spread N [IDLE]\n");
	return 2;
}
