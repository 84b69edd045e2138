/* SPDX-License-Identifier: MIT */
/*
 * repstep FILE: a REP LODSB with 32-bit addressing over 4 bytes of a
 * traced memfd page ("mmscope-slow", mapped below 4 GiB): the engine does
 * not emulate it and it cannot run out of line (its range comes from
 * ECX), so mmscope single-steps it with the trap flag, one trap per byte.
 * Prints "READY <pid>", waits until FILE exists (a debugger attaches
 * meanwhile), then prints "AL <last byte loaded>" through printf.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = memfd_create("mmscope-slow", 0);
	volatile uint8_t *p;
	struct stat st;
	uint32_t esi, ecx = 4;
	uint8_t al;

	if (argc < 2 || fd < 0 || ftruncate(fd, 4096) < 0)
		return 2;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_32BIT, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY %d\n", getpid());
	while (stat(argv[1], &st))
		usleep(10000);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(i + 1);
	esi = (uint32_t)(uintptr_t)p;
	__asm__ volatile("addr32 rep lodsb" : "=a"(al), "+S"(esi), "+c"(ecx) : : "memory");
	printf("AL %d\n", al);
	return 0;
}
