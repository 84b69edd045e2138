/* SPDX-License-Identifier: MIT */
/*
 * gdbme: a program a debugger attaches to while it runs under mmscope.
 * mmscope watches ours[0..3]; the debugger watches g1..g4 (another page).
 *
 *   1. stores to ours[0..3], prints "READY <pid>", then waits (nanosleep)
 *      until the file argv[1] exists
 *   2. stores 1 to g1, waits for the file argv[2], stores 2, 3, 4 to g2,
 *      g3, g4
 *   3. stores to ours[0..3] again, prints "DONE g1..g4" values
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t ours[4] __attribute__((aligned(4096)));
volatile uint64_t g1 __attribute__((aligned(4096)));
volatile uint64_t g2, g3, g4;

static void wait_for(const char *path)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	while (access(path, F_OK) != 0)
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	for (int i = 0; i < 4; i++)
		ours[i] = 1;
	printf("READY %d\n", (int)getpid());
	fflush(stdout);
	wait_for(argv[1]);
	g1 = 1;
	wait_for(argv[2]);
	g2 = 2;
	g3 = 3;
	g4 = 4;
	for (int i = 0; i < 4; i++)
		ours[i] = 2;
	printf("DONE %lu %lu %lu %lu\n", (unsigned long)g1, (unsigned long)g2, (unsigned long)g3,
	       (unsigned long)g4);
	return 0;
}
