/* SPDX-License-Identifier: MIT */
/*
 * sigme MODE: signals that are not faults, for the debugger's stops and
 * for mmscope's hands off them.  It maps memfd "mmscope-sigme" (traced
 * in tests) and stores 1 there first.
 *
 *   abort          prints "ABORTING" and calls abort() from give_up()
 *   usr1 [restart] a SIGUSR1 handler (SA_RESTART with "restart"), then a
 *                  read() of an empty pipe; a child process sends SIGUSR1
 *                  once the read waits, and writes a byte into the pipe
 *                  100 ms later.  Prints "HANDLED <si_code> <from child>"
 *                  and "READ 1" (restarted) or "READ -1 EINTR".
 *   term           the same without a handler: SIGTERM kills it in read()
 *   alarm N        an interval timer of 1 ms, N SIGALRMs counted by a
 *                  handler while the program waits in pause(); "ALARMS N"
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memfd_map.h"

static volatile sig_atomic_t ticks, code, from;
static pid_t child;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGALRM) {
		ticks++;
		return;
	}
	code = si->si_code;
	from = si->si_pid == child;
}

__attribute__((noinline)) static void give_up(void)
{
	printf("ABORTING\n");
	fflush(stdout);
	abort();
}

/* the child: wait until the parent sleeps in read(2), then send sig */
static void send_when_reading(pid_t parent, int sig, int wfd)
{
	char path[64], buf[64];
	struct timespec tick = { 0, 1000000 };

	snprintf(path, sizeof(path), "/proc/%d/syscall", parent);
	for (int i = 0; i < 20000; i++) {
		FILE *f = fopen(path, "r");
		int nr = -1;
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				nr = atoi(buf);
			fclose(f);
		}
		if (nr == 0 && buf[0] == '0' && buf[1] == ' ')
			break;
		nanosleep(&tick, NULL);
	}
	kill(parent, sig);
	tick.tv_nsec = 100000000;
	nanosleep(&tick, NULL);
	if (write(wfd, "x", 1) != 1)
		_exit(3);
	_exit(0);
}

static int wait_in_read(int sig)
{
	int p[2];
	char c;

	if (pipe(p) < 0)
		return 2;
	child = fork();
	if (child == 0)
		send_when_reading(getppid(), sig, p[1]);
	if (child < 0)
		return 2;
	ssize_t n = read(p[0], &c, 1);
	int e = errno;
	printf("HANDLED %d %d\n", (int)code, (int)from);
	if (n < 0)
		printf("READ -1 %s\n", e == EINTR ? "EINTR" : strerror(e));
	else
		printf("READ %zd\n", n);
	waitpid(child, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	volatile uint32_t *m;

	if (argc < 2)
		return 2;
	m = memfd_map("mmscope-sigme", 4096, NULL);
	m[0] = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "abort")) {
		give_up();
	} else if (!strcmp(argv[1], "usr1")) {
		if (argc > 2 && !strcmp(argv[2], "restart"))
			sa.sa_flags |= SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
		return wait_in_read(SIGUSR1);
	} else if (!strcmp(argv[1], "term")) {
		return wait_in_read(SIGTERM);
	} else if (!strcmp(argv[1], "alarm") && argc > 2) {
		int n = atoi(argv[2]);
		struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		while (ticks < n)
			pause();
		it = (struct itimerval){ 0 };
		setitimer(ITIMER_REAL, &it, NULL);
		printf("ALARMS %d\n", n);
		return 0;
	}
	return 2;
}
