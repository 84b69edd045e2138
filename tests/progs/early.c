/* SPDX-License-Identifier: MIT */
/*
 * early: its library (lib/early.c) mapped a shared memfd in a constructor
 * before mmscope's agent started; the program stores and loads through it.
 *
 * Output: "W 0x4 7", "R 0x4 7" (offset and value of each 4-byte access),
 * in program order.
 */
#include <stdio.h>

extern volatile unsigned *early_map;

int main(void)
{
	unsigned v;

	if (!early_map)
		return 1;
	early_map[1] = 7;
	printf("W 0x4 7\n");
	v = early_map[1];
	printf("R 0x4 %u\n", v);
	return 0;
}
