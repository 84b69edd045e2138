/* SPDX-License-Identifier: MIT */
/* Records written into a trace from outside the traced program (`mark`,
 * and the exit status `run` learns from waitpid). */
#ifndef MMS_CLI_OUTSIDE_H
#define MMS_CLI_OUTSIDE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Append one record of the given type to the trace in dir, attributed to
 * pid (tid 0: from outside), in a stream file of its own, ordered through
 * the trace's shared sequence counter.  body is the record after its
 * common part (seq, ts_ns), text a NUL-terminated string appended after
 * body (or NULL).  0 or -errno.
 */
int outside_append(const char *dir, long pid, uint16_t type, const void *body, size_t body_len,
		   const char *text);

#endif
