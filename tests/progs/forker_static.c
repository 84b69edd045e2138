/* SPDX-License-Identifier: MIT */
/*
 * forker_static: a statically linked program (the Makefile links every
 * tests/progs file whose name contains "static" with -static), which the
 * preloaded agent cannot enter.  It must still run correctly under mmscope.
 *
 *   forker_static [FD]   map memfd FD (inherited over exec from forker
 *                        exec-static) or a new memfd "mmscope-forker-static",
 *                        write and read it back
 *
 * Output: "PID static <pid>", each access as "ACCESS <pid> R|W 0x<offset>
 * 0x<value>", and "STATIC ok" when the value read back is right.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

int main(int argc, char **argv)
{
	int fd = argc > 1 ? atoi(argv[1]) : memfd_create("mmscope-forker-static", 0);
	volatile uint64_t *m;
	uint64_t v;

	if (fd < 0 || (argc <= 1 && ftruncate(fd, PAGE) < 0)) {
		perror("forker_static: memfd");
		return 2;
	}
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("forker_static: mmap");
		return 2;
	}
	printf("PID static %d\n", (int)getpid());
	asm volatile("movq %1, %0" : "=m"(m[3]) : "r"((uint64_t)0x57a7) : "memory");
	printf("ACCESS %d W 0x18 0x57a7\n", (int)getpid());
	asm volatile("movq %1, %0" : "=r"(v) : "m"(m[3]) : "memory");
	printf("ACCESS %d R 0x18 0x%llx\n", (int)getpid(), (unsigned long long)v);
	if (v != 0x57a7)
		return 1;
	printf("STATIC ok\n");
	return 0;
}
