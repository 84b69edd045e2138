/* SPDX-License-Identifier: MIT */
/*
 * killme: make K traced accesses, say so, then wait to be SIGKILLed.
 *
 *   killme [K]     (default 1000)
 *
 * Prints "PID <pid>" first, then each access as "ACCESS R|W 0x<offset>
 * 0x<value>" (8 bytes wide, on memfd "mmscope-killme"), then
 * "DONE K=<K> R=<reads> W=<writes>", flushes, and blocks reading stdin.
 * The test never writes to stdin; it kills the program.  If stdin reaches
 * end of file anyway, the program exits with status 3 so that a test which
 * expected a kill notices.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define SLOTS (PAGE / 8)

int main(int argc, char **argv)
{
	unsigned long k = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000, reads = 0, writes = 0;
	volatile uint64_t *m;
	int fd;
	char c;

	printf("PID %d\n", (int)getpid());
	fflush(stdout);
	fd = memfd_create("mmscope-killme", 0);
	if (fd < 0 || ftruncate(fd, PAGE) < 0) {
		perror("killme: memfd");
		return 2;
	}
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("killme: mmap");
		return 2;
	}
	for (unsigned long i = 0; i < k; i++) {
		unsigned slot = (unsigned)(i / 2 % SLOTS);
		uint64_t v;

		if (i % 2 == 0) {
			v = 0xdead0000ull + i;
			asm volatile("movq %1, %0" : "=m"(m[slot]) : "r"(v) : "memory");
			printf("ACCESS W 0x%x 0x%llx\n", slot * 8, (unsigned long long)v);
			writes++;
		} else {
			asm volatile("movq %1, %0" : "=r"(v) : "m"(m[slot]) : "memory");
			printf("ACCESS R 0x%x 0x%llx\n", slot * 8, (unsigned long long)v);
			reads++;
		}
	}
	printf("DONE K=%lu R=%lu W=%lu\n", k, reads, writes);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 3;
}
