/* SPDX-License-Identifier: MIT */
/*
 * The one interface between `mmscope run` and the agent: a small versioned
 * text file in the trace directory, named by MMSCOPE_CONFIG.
 *
 *   mmscope-config 1
 *   out /abs/trace.d
 *   map /dev/shm/ring*          (repeatable; none = the default selection)
 *   verbose 1
 */
#ifndef MMS_UTIL_CONFIG_H
#define MMS_UTIL_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#define CONFIG_VERSION 1
#define CONFIG_MAPS_MAX 64
#define CONFIG_PATTERN_MAX 512
#define CONFIG_ENV "MMSCOPE_CONFIG"

struct config {
	char out[PATH_MAX];
	int nmaps;
	char maps[CONFIG_MAPS_MAX][CONFIG_PATTERN_MAX];
	int verbose;
};

int config_write(const struct config *c, const char *path);
/* 0, or -errno with a message in err */
int config_read(struct config *c, const char *path, char *err, size_t errlen);

/* Does this mapped object match the selection?  path is what the kernel
 * shows in /proc/self/maps; is_chardev from fstat of the object. */
bool config_selects(const struct config *c, const char *path, bool is_chardev);

/* Glob match of one --map pattern; an exact string match always counts. */
bool config_pattern_matches(const char *pattern, const char *path);

#endif
