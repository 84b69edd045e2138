/* SPDX-License-Identifier: MIT */
/*
 * hotloop N: N rounds of a 4-byte store and a 4-byte load at offset 0x100
 * of a memfd mapping ("mmscope-hot"), each instruction 6 bytes long (so a
 * hot site can be patched with a 5-byte jump), then the sum of the loads.
 * Output: "ROUNDS <n>", "SUM <sum>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int fd = memfd_create("mmscope-hot", 0);
	uint64_t sum = 0;
	char *p;

	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return 1;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	for (long i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i, r;
		/* 0x100 needs a disp32: 6 bytes each, with no REX */
		__asm__ volatile("movl %1, 0x100(%0)" ::"r"(p), "r"(v) : "memory");
		__asm__ volatile("movl 0x100(%1), %0" : "=r"(r) : "r"(p) : "memory");
		sum += r;
	}
	printf("ROUNDS %ld\nSUM %lu\n", n, (unsigned long)sum);
	return 0;
}
