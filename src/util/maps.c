/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sys/mman.h>

#include "util/maps.h"

bool maps_parse(const char *line, struct maps_line *m)
{
	unsigned long lo, hi, off;

	m->path[0] = 0;
	if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %4095[^\n]", &lo, &hi, m->perms, &off, &m->ino,
		   m->path) < 5)
		return false;
	m->lo = lo;
	m->hi = hi;
	m->off = off;
	return true;
}

int maps_prot(const struct maps_line *m)
{
	return (m->perms[0] == 'r' ? PROT_READ : 0) | (m->perms[1] == 'w' ? PROT_WRITE : 0) |
	       (m->perms[2] == 'x' ? PROT_EXEC : 0);
}
