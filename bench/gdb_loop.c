/* SPDX-License-Identifier: MIT */
/*
 * gdb_loop: the program bench/gdbstub.sh debugs, under mmscope's stub and
 * under gdbserver, with gdb driving both.
 *
 *   gdb_loop store N    stores() writes 0..N-1 to g: stepi walks its
 *                       loop, `watch g` stops at every store
 *   gdb_loop spread N   spread() stores to w[i % 64] N times: 64 watches,
 *                       each hit N / 64 times
 *
 * Prints "sum=S" (the values it stored, read back) at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile unsigned long g;
volatile unsigned long w[64];

__attribute__((noinline)) unsigned long stores(long n)
{
	unsigned long s = 0;

	for (long i = 0; i < n; i++) {
		g = (unsigned long)i;
		s += g;
	}
	return s;
}

__attribute__((noinline)) unsigned long spread(long n)
{
	unsigned long s = 0;

	for (long i = 0; i < n; i++)
		w[i % 64] = (unsigned long)i;
	for (int k = 0; k < 64; k++)
		s += w[k];
	return s;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0;

	if (argc != 3 || n <= 0 || (strcmp(argv[1], "store") && strcmp(argv[1], "spread"))) {
		fprintf(stderr, "usage: gdb_loop store|spread N\n");
		return 2;
	}
	printf("sum=%lu\n", strcmp(argv[1], "store") ? spread(n) : stores(n));
	return 0;
}
