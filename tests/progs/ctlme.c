/* SPDX-License-Identifier: MIT */
/*
 * ctlme: a long-running program that `mmscope ctl` sessions come and go
 * on.  It maps memfd "ctlme" (4096 bytes) and obeys lines on stdin:
 *
 *   store N   N stores to counter (a global), each also to the memfd
 *   quit      exit 0
 *
 * Output: "READY <pid> <&counter> <&vars[0]> <one_store>" first, then "STORED <total>"
 * after each store command: the ground truth for hits of a watch on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

volatile uint64_t counter;
volatile uint64_t vars[8];

/* every store goes through here: a breakpoint left in it would kill */
__attribute__((noinline)) void one_store(volatile uint64_t *m, uint64_t v)
{
	counter = v;
	m[v % 512] = v;
}

int main(void)
{
	char line[128];
	uint64_t total = 0;
	int fd = memfd_create("ctlme", 0);
	volatile uint64_t *m;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 2;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	printf("READY %d %p %p %p\n", (int)getpid(), (void *)&counter, (void *)&vars[0],
	       (void *)one_store);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "store ", 6)) {
			long n = atol(line + 6);
			for (long i = 0; i < n; i++)
				one_store(m, ++total);
			printf("STORED %llu\n", (unsigned long long)total);
			fflush(stdout);
		} else if (!strncmp(line, "quit", 4)) {
			return 0;
		}
	}
	return 3;
}
