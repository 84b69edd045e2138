/* SPDX-License-Identifier: MIT */
/*
 * The words of a dump command ("[--full] [--device-reads] FILE", ctl's
 * and the debugger's `monitor dump`): read by the CLI, which makes FILE
 * absolute, and by the agent.
 */
#ifndef MMS_UTIL_DUMPARGS_H
#define MMS_UTIL_DUMPARGS_H

#include <stdbool.h>
#include <string.h>

/* The flags before FILE; returns FILE (the rest of args). */
static inline const char *dumpargs_parse(const char *args, bool *full, bool *device_reads)
{
	*full = *device_reads = false;
	for (;;) {
		if (!strncmp(args, "--full ", 7)) {
			*full = true;
			args += 7;
		} else if (!strncmp(args, "--device-reads ", 15)) {
			*device_reads = true;
			args += 15;
		} else {
			return args;
		}
	}
}

#endif
