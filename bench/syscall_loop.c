/* SPDX-License-Identifier: MIT */
/*
 * syscall_loop MODE N: N system calls of one kind, timed in-process;
 * prints "ns_per_call=<x>".  For the cost of mmscope's raw-mmap seccomp
 * filter (every system call of the process runs it) and interposers.
 *   getppid  glibc's getppid(): the cheapest system call there is
 *   read     read(2) of one byte from /dev/zero
 *   mmap     mmap + munmap of one anonymous page (two calls per round)
 *   rawmmap  the same with this program's own `syscall` instructions
 *            (trapped by the filter: SIGSYS, completed by the agent)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 1000000, calls = n;
	const char *m = argc > 1 ? argv[1] : "getppid";
	int fd = open("/dev/zero", O_RDONLY);
	char c;
	double t0 = now();

	if (!strcmp(m, "getppid")) {
		for (long i = 0; i < n; i++)
			getppid();
	} else if (!strcmp(m, "read")) {
		for (long i = 0; i < n; i++)
			if (read(fd, &c, 1) != 1)
				return 1;
	} else if (!strcmp(m, "mmap")) {
		for (long i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, 4096))
				return 1;
		}
		calls = 2 * n;
	} else if (!strcmp(m, "rawmmap")) {
		for (long i = 0; i < n; i++) {
			long p = raw6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p < 0 && p > -4096)
				return 1;
			if (raw6(SYS_munmap, p, 4096, 0, 0, 0, 0))
				return 1;
		}
		calls = 2 * n;
	} else {
		fprintf(stderr, "usage: syscall_loop getppid|read|mmap|rawmmap N\n");
		return 2;
	}
	printf("ns_per_call=%.1f\n", (now() - t0) / calls);
	return 0;
}
