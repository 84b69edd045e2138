/* SPDX-License-Identifier: MIT */
/*
 * libearly.so: a library whose constructor maps a shared memfd before the
 * agent's constructor runs (the program's libraries are initialised first),
 * so the agent finds the mapping already present at startup.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

volatile unsigned *early_map;

__attribute__((constructor)) static void map_early(void)
{
	int fd = memfd_create("mmscope-early", 0);

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return;
	early_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (early_map == MAP_FAILED)
		early_map = NULL;
}
