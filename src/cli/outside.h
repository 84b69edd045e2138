/* SPDX-License-Identifier: MIT */
/* Records written into a trace from outside the traced program (`mark`,
 * and the exit status `run` learns from waitpid). */
#ifndef MMS_CLI_OUTSIDE_H
#define MMS_CLI_OUTSIDE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Append one record of the given type to the trace in dir, attributed to
 * thread tid of process pid (the thread the record is about; both 0 when
 * it concerns no process of the trace), in a stream file of its own,
 * ordered through the trace's shared sequence counter.  body is the
 * record after its common part (seq, ts_ns), text a NUL-terminated string
 * appended after body (or NULL).  The caller's credentials must be the
 * trace owner's: nothing is opened through a symlink, and the shared page
 * must be a page-sized regular file of the caller's (cli/tracedir.h).
 * 0 or -errno (-EINVAL: dir/seq is not a trace's shared page).
 */
int outside_append(const char *dir, long pid, long tid, uint16_t type, const void *body,
		   size_t body_len, const char *text);

#endif
