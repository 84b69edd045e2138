/* SPDX-License-Identifier: MIT */
/*
 * poll N: a driver's status poll on a memfd mapping ("mmscope-poll"): N
 * 4-byte reads of offset 0x40 that see 0, one write of 1 there, N reads
 * that see 1, then N reads alternating between offsets 0x40 and 0x44
 * (never two identical accesses in a row).
 * Output: "POLL <n>" and "SEEN <zeros> <ones>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, zeros = 0, ones = 0;
	int fd = memfd_create("mmscope-poll", 0);
	volatile uint32_t *p;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	for (long i = 0; i < n; i++)
		zeros += p[16] == 0;
	p[16] = 1;
	for (long i = 0; i < n; i++)
		ones += p[16] == 1;
	for (long i = 0; i < n; i++)
		(void)p[16 + (i & 1)];
	printf("POLL %ld\nSEEN %ld %ld\n", n, zeros, ones);
	return 0;
}
