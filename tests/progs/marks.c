/* SPDX-License-Identifier: MIT */
/*
 * marks: MARK records from the program (mmscope_mark) and from outside
 * (`mmscope mark PID TEXT`), in order with the traced accesses around them.
 *
 *   marks api     accesses and mmscope_mark() calls interleaved; without
 *                 mmscope the marks are no-ops and the program runs the same
 *   marks wait    one access, "READY", block until a line arrives on stdin
 *                 (the test runs `mmscope mark` meanwhile), one more access
 *
 * Output: "PID <pid>", then in program order "ACCESS R|W 0x<offset>
 * 0x<value>" (8 bytes wide, memfd "mmscope-marks") and "MARK <text>" for
 * each mmscope_mark() call; "READY" in wait mode before it blocks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmscope/mmscope.h"

#define PAGE 4096

static volatile uint64_t *m;

static void put(unsigned idx, uint64_t v)
{
	asm volatile("movq %1, %0" : "=m"(m[idx]) : "r"(v) : "memory");
	printf("ACCESS W 0x%x 0x%llx\n", idx * 8, (unsigned long long)v);
}

static uint64_t get(unsigned idx)
{
	uint64_t v;

	asm volatile("movq %1, %0" : "=r"(v) : "m"(m[idx]) : "memory");
	printf("ACCESS R 0x%x 0x%llx\n", idx * 8, (unsigned long long)v);
	return v;
}

static void mark(const char *text)
{
	mmscope_mark(text);
	printf("MARK %s\n", text);
}

static int mode_api(void)
{
	put(0, 0x11);
	mark("phase one");
	put(1, 0x22);
	if (get(0) != 0x11)
		return 1;
	mark("phase two: 2 accesses before, 1 after");
	mark("back to back");
	put(2, 0x33);
	mark("done");
	return 0;
}

static int mode_wait(void)
{
	char line[64];

	put(0, 0xbef0);
	printf("READY\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;
	put(1, 0xaf7e);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "api";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("PID %d\n", (int)getpid());
	fd = memfd_create("mmscope-marks", 0);
	if (fd < 0 || ftruncate(fd, PAGE) < 0) {
		perror("marks: memfd");
		return 2;
	}
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("marks: mmap");
		return 2;
	}
	if (!strcmp(mode, "api"))
		return mode_api();
	if (!strcmp(mode, "wait"))
		return mode_wait();
	fprintf(stderr, "usage: marks api|wait\n");
	return 2;
}
