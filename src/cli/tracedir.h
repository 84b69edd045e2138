/* SPDX-License-Identifier: MIT */
/*
 * The trace directory as `mmscope run` and `mmscope mark` use it.  A trace
 * holds device data and its files are written by the traced program, so
 * the directory is the user's own and nobody else's: created 0700, or an
 * existing one that is no symlink, is owned by the user and is writable by
 * nobody else.  Files in it are created O_EXCL | O_NOFOLLOW, 0600.  Only
 * trace files are ever deleted (tracedir_is_trace_file).
 */
#ifndef MMS_CLI_TRACEDIR_H
#define MMS_CLI_TRACEDIR_H

#include <stdbool.h>
#include <stddef.h>

struct mms_seq_page;

/* Is name one of the files a trace consists of: *.mms, maps-*, seq,
 * config, agent.log, core.* */
bool tracedir_is_trace_file(const char *name);

/*
 * Make dir ready for a new trace and return an O_DIRECTORY descriptor of
 * it, with its absolute path in abs.  A missing dir is created 0700 (its
 * parents as mkdir -p would).  An existing one must pass the checks above,
 * and may hold trace files only: without force they are an old trace and
 * dir is refused; with force they are deleted.  Anything else in it is
 * refused by name, force or not.  -errno with a message naming dir (and
 * what to do) in err.
 */
int tracedir_prepare(const char *dir, bool force, char *abs, size_t abscap, char *err,
		     size_t errlen);

/*
 * Create the trace's shared page "seq" in dirfd: 4096 bytes, allocated on
 * disk (a full disk is an error now, never a SIGBUS later), 0600, O_EXCL.
 * On success *page maps it read-only for the summary.  -errno.
 */
int tracedir_create_seq(int dirfd, const struct mms_seq_page **page);

/*
 * Open an existing trace's shared page read-write: never through a
 * symlink, a regular file at least a page long, owned by the caller (whose
 * credentials must already be the trace owner's).  -errno; -EINVAL: it is
 * not a file a trace makes.
 */
int tracedir_open_seq(int dirfd, struct mms_seq_page **page);

#endif
