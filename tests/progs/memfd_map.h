/* SPDX-License-Identifier: MIT */
/*
 * For the test programs: a shared read-write mapping of a fresh memfd of
 * len bytes named name (the name tests select with --map/--device).  Exits
 * with status 2 when it cannot be made; *fd gets the descriptor if fd is
 * not NULL.
 */
#ifndef MMS_TEST_MEMFD_MAP_H
#define MMS_TEST_MEMFD_MAP_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static inline volatile uint32_t *memfd_map(const char *name, size_t len, int *fd)
{
	int f = memfd_create(name, 0);
	void *p;

	if (f < 0 || ftruncate(f, (off_t)len) < 0)
		exit(2);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (p == MAP_FAILED)
		exit(2);
	if (fd)
		*fd = f;
	return p;
}

#endif
