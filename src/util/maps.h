/* SPDX-License-Identifier: MIT */
/* One line of /proc/PID/maps (proc(5)), parsed. */
#ifndef MMS_UTIL_MAPS_H
#define MMS_UTIL_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct maps_line {
	uint64_t lo, hi, off;
	unsigned long ino;
	char perms[8]; /* "rw-s" */
	char path[PATH_MAX];
};

/* false if the line is not a maps line */
bool maps_parse(const char *line, struct maps_line *m);
/* PROT_READ | PROT_WRITE | PROT_EXEC from perms */
int maps_prot(const struct maps_line *m);

#endif
