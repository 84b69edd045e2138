/* SPDX-License-Identifier: MIT */
/*
 * hotsig N: hotloop's two 6-byte accesses, N rounds, under a SIGALRM
 * every 50 us whose handler counts the interrupted pcs that lie outside
 * the program's own text while it runs the loop (under mmscope: in a hot site's stub or in the
 * agent, which the program must never see), and checks each load.
 * Output: "SUM <sum> ALARMS <n> OUTSIDE <n>", "BAD <round>" on a wrong load.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

extern char __executable_start[], etext[];
static volatile long alarms, outside;
static volatile int in_loop; /* libc's setitimer is outside the text too */

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char *pc = (char *)uc->uc_mcontext.gregs[REG_RIP];

	(void)sig;
	(void)si;
	if (!in_loop)
		return;
	alarms++;
	if (pc < __executable_start || pc >= etext)
		outside++;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int fd = memfd_create("mmscope-hot", 0);
	struct sigaction sa = { .sa_sigaction = on_alarm, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, stop = { { 0, 0 }, { 0, 0 } };
	uint64_t sum = 0;
	char *p;

	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return 2;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || sigaction(SIGALRM, &sa, NULL) < 0 ||
	    setitimer(ITIMER_REAL, &it, NULL) < 0)
		return 2;
	in_loop = 1;
	for (long i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i, r;
		__asm__ volatile("movl %1, 0x100(%0)" ::"r"(p), "r"(v) : "memory");
		__asm__ volatile("movl 0x100(%1), %0" : "=r"(r) : "r"(p) : "memory");
		if (r != v) {
			printf("BAD %ld\n", i);
			return 1;
		}
		sum += r;
	}
	in_loop = 0;
	setitimer(ITIMER_REAL, &stop, NULL);
	printf("SUM %lu ALARMS %ld OUTSIDE %ld\n", (unsigned long)sum, alarms, outside);
	return 0;
}
