/* SPDX-License-Identifier: MIT */
/*
 * lateme: a program a debugger connection is opened in later, while its
 * threads stand where programs stand: one spins in its own code, one
 * waits in poll() with no timeout, one in epoll_wait(), one sleeps in
 * nanosleep() and main reads commands from stdin.  Each of them checks
 * what the program would notice if mmscope disturbed it: a system call
 * returning EINTR, a signal it handles arriving, a sleep cut short.  It
 * maps memfd "lateme" (4096 bytes) for the tracer to trace.
 *
 *   store N   N stores to the memfd and to `counter`
 *   status    "STATUS <spins> <eintr> <signals> <short-sleeps>"
 *   quit      the threads stop; "DONE <eintr> <signals> <short-sleeps>"; exit 0
 *
 * lateme FIFO [alone]: commands come from FIFO instead, which main opens
 * after READY (so it waits in open() until the writer comes: a system
 * call mmscope must not use); alone: no other threads; epoll-first: the
 * epoll_wait thread is started first, so it is the first one looked at.
 *
 * Output first: "READY <pid> <&counter>".
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t counter;
static volatile uint64_t spins;
static volatile int stop;
static int eintr, signals, short_sleeps;
static int wake[2]; /* written at quit: poll and epoll threads return */

static void on_signal(int sig)
{
	(void)sig;
	__atomic_add_fetch(&signals, 1, __ATOMIC_RELAXED);
}

static void *spinner(void *arg)
{
	(void)arg;
	while (!stop)
		spins++;
	return NULL;
}

static void *poller(void *arg)
{
	struct pollfd p = { .fd = wake[0], .events = POLLIN };

	(void)arg;
	while (!stop)
		if (poll(&p, 1, -1) < 0 && errno == EINTR)
			__atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *epoller(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);

	(void)arg;
	epoll_ctl(ep, EPOLL_CTL_ADD, wake[0], &ev);
	while (!stop)
		if (epoll_wait(ep, &out, 1, -1) < 0 && errno == EINTR)
			__atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	while (!stop) {
		struct timespec t = { 0, 200 * 1000 * 1000 }, left = { 0, 0 };
		if (nanosleep(&t, &left) < 0) {
			__atomic_add_fetch(&short_sleeps, 1, __ATOMIC_RELAXED);
			if (errno == EINTR)
				__atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 2 && !strcmp(argv[2], "alone") ? 0 : 4;
	FILE *in = stdin;
	void *(*fns[])(void *) = { spinner, poller, epoller, sleeper };
	void *(*epoll_first[])(void *) = { epoller, poller, spinner, sleeper };
	bool first = argc > 2 && !strcmp(argv[2], "epoll-first");
	pthread_t th[4];
	char line[128];
	struct sigaction sa = { .sa_handler = on_signal };
	int fd = memfd_create("lateme", 0);
	volatile uint64_t *m;
	uint64_t total = 0;

	/* no SA_RESTART: a signal mmscope let through would show as EINTR */
	for (int s = 1; s < SIGRTMIN; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGTRAP && s != SIGBUS &&
		    s != SIGILL && s != SIGFPE && s != SIGABRT && s != SIGCHLD)
			sigaction(s, &sa, NULL);
	if (fd < 0 || ftruncate(fd, 4096) < 0 || pipe(wake) < 0)
		return 2;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, (first ? epoll_first : fns)[i], NULL))
			return 2;
	printf("READY %d %p\n", (int)getpid(), (void *)&counter);
	fflush(stdout);
	while (argc > 1 && !(in = fopen(argv[1], "r")))
		if (errno != EINTR)
			return 2;
		else
			eintr++;
	for (;;) {
		if (!fgets(line, sizeof(line), in)) {
			if (ferror(in) && errno == EINTR) {
				eintr++;
				clearerr(in);
				continue;
			}
			break;
		}
		if (!strncmp(line, "store ", 6)) {
			for (long i = atol(line + 6); i > 0; i--) {
				counter = ++total;
				m[total % 512] = total;
			}
			printf("STORED %llu\n", (unsigned long long)total);
		} else if (!strncmp(line, "status", 6)) {
			printf("STATUS %llu %d %d %d\n", (unsigned long long)spins, eintr, signals,
			       short_sleeps);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
		fflush(stdout);
	}
	stop = 1;
	if (write(wake[1], "x", 1) != 1)
		return 2;
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	printf("DONE %d %d %d\n", eintr, signals, short_sleeps);
	return 0;
}
