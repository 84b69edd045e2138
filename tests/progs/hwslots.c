/* SPDX-License-Identifier: MIT */
/*
 * hwslots: eight globals written once each, in order, for a debugger to
 * watch.  How many of them gdb can watch in hardware at once is the ground
 * truth `mmscope probe` must agree with.
 *
 * Output: "WROTE g<i> <value>" for i = 1..8.
 */
#include <stdio.h>

volatile unsigned g1, g2, g3, g4, g5, g6, g7, g8;

int main(void)
{
	volatile unsigned *g[] = { &g1, &g2, &g3, &g4, &g5, &g6, &g7, &g8 };

	for (unsigned i = 0; i < 8; i++) {
		*g[i] = i + 1;
		printf("WROTE g%u %u\n", i + 1, i + 1);
	}
	return 0;
}
