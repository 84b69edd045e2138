/* SPDX-License-Identifier: MIT */
/*
 * /proc/self/maps (proc(5)) line by line, without stdio: safe in signal
 * context, and read through the /proc descriptor of util/proc.h so it
 * works after the program chroots.  A struct maps_reader is large (it
 * holds a whole line): keep it static (under a lock) or in a heap/mmap'd
 * area, not on a signal stack.
 */
#ifndef MMS_UTIL_MAPS_H
#define MMS_UTIL_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maps_line {
	uint64_t lo, hi, off;
	unsigned long ino;
	char perms[8]; /* "rw-s" */
	char path[PATH_MAX];
};

struct maps_reader {
	long fd;
	size_t len, pos; /* unread bytes are buf[pos..len) */
	char buf[4096];
	char line[PATH_MAX + 128];
};

/* false if the line is not a maps line */
bool maps_parse(const char *line, struct maps_line *m);
/* PROT_READ | PROT_WRITE | PROT_EXEC from perms */
int maps_prot(const struct maps_line *m);

/* 0 or -errno */
int maps_open(struct maps_reader *r);
/* The next line: 1, 0 at the end, -errno on a read error.  Lines that do
 * not parse are skipped. */
int maps_next(struct maps_reader *r, struct maps_line *out);
void maps_close(struct maps_reader *r);
/* /proc/self/smaps instead: maps_next_line gives every line in r->line
 * (mapping headers for maps_parse, then "Key:  value kB" lines) */
int maps_open_smaps(struct maps_reader *r);
/* The next line into r->line: 1, 0 at the end, -errno on a read error. */
int maps_next_line(struct maps_reader *r);

#endif
