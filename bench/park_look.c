/* SPDX-License-Identifier: MIT */
/*
 * park_look N: what a park's look at each thread's system call costs
 * (src/agent/park.c reads /proc/self/task/TID/syscall before it signals
 * the thread) beside what signalling it costs anyway.  One thread waits
 * in poll(); then, N times each, timed in-process:
 *
 *   look     open, read and close /proc/self/task/TID/syscall of it
 *   signal   tgkill it a signal whose handler posts back, wait for that:
 *            the round trip of a park's signal to a waiting thread
 *
 * Prints "look_ns=F signal_ns=F ratio=F" (per operation).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int waiter_tid, fds[2];
static volatile int acks;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void on_sig(int sig)
{
	(void)sig;
	__atomic_add_fetch(&acks, 1, __ATOMIC_RELEASE);
}

static void *waiter(void *arg)
{
	struct pollfd p = { .fd = fds[0], .events = POLLIN };

	(void)arg;
	__atomic_store_n(&waiter_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;)
		poll(&p, 1, -1);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_RESTART };
	char path[64], buf[128];
	pthread_t th;
	uint64_t t0, look, sig;

	if (n <= 0 || pipe(fds) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0 ||
	    pthread_create(&th, NULL, waiter, NULL)) {
		fprintf(stderr, "usage: park_look N\n");
		return 2;
	}
	while (!__atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(20000); /* in poll() now */
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", waiter_tid);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
			return 1;
		close(fd);
	}
	look = now_ns() - t0;
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int want = acks + 1;
		syscall(SYS_tgkill, getpid(), waiter_tid, SIGUSR1);
		while (__atomic_load_n(&acks, __ATOMIC_ACQUIRE) < want)
			;
	}
	sig = now_ns() - t0;
	printf("look_ns=%.1f signal_ns=%.1f ratio=%.3f\n", (double)look / (double)n,
	       (double)sig / (double)n, (double)look / (double)sig);
	return 0;
}
