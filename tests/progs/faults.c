/* SPDX-License-Identifier: MIT */
/*
 * faults KIND [handled]: the faults other than SIGSEGV, which mmscope
 * must hand to the program as the kernel would (and a debugger must stop
 * for).  It maps memfd "mmscope-faults" (traced in tests) and stores 1
 * there first.
 *
 *   fpe   an integer division by zero (SIGFPE, FPE_INTDIV)
 *   ill   ud2 (SIGILL, ILL_ILLOPN)
 *   bus   a load beyond the end of a truncated file's mapping (SIGBUS,
 *         BUS_ADRERR)
 *
 * handled: an SA_SIGINFO handler prints "CAUGHT <sig> <si_code>" and
 * leaves through siglongjmp; the program prints "SURVIVED" and exits 0.
 * blocked: the same handler, but the three signals blocked: the kernel
 * kills the program with the signal all the same.  Without either the
 * program dies of the signal.  "FAULTING <KIND>" is printed just before.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfd_map.h"

static sigjmp_buf back;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("CAUGHT %d %d\n", sig, si->si_code);
	fflush(stdout);
	siglongjmp(back, 1);
}

__attribute__((noinline)) static int divide(volatile int a, volatile int b)
{
	return a / b;
}

__attribute__((noinline)) static void fault(const char *kind)
{
	if (!strcmp(kind, "fpe")) {
		printf("%d\n", divide(1, 0));
	} else if (!strcmp(kind, "ill")) {
		__asm__ volatile("ud2");
	} else {
		int fd = memfd_create("faults-bus", 0);
		volatile uint8_t *p;
		if (fd < 0 || ftruncate(fd, 8192) < 0)
			exit(2);
		p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || ftruncate(fd, 0) < 0)
			exit(2);
		printf("%d\n", p[4096]);
	}
}

int main(int argc, char **argv)
{
	volatile uint32_t *m;

	if (argc < 2)
		return 2;
	m = memfd_map("mmscope-faults", 4096, NULL);
	m[0] = 1;
	if (argc > 2 && (!strcmp(argv[2], "handled") || !strcmp(argv[2], "blocked"))) {
		struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
		sigaction(SIGFPE, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		if (sigsetjmp(back, 1)) {
			printf("SURVIVED\n");
			return 0;
		}
		if (!strcmp(argv[2], "blocked")) {
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, SIGFPE);
			sigaddset(&s, SIGILL);
			sigaddset(&s, SIGBUS);
			sigprocmask(SIG_BLOCK, &s, NULL);
		}
	}
	printf("FAULTING %s\n", argv[1]);
	fflush(stdout);
	fault(argv[1]);
	printf("NOT FAULTED\n");
	return 1;
}
