/* SPDX-License-Identifier: MIT */
/*
 * Where the debugger's UNIX socket lives: the agent makes it as
 * "<dir of PATH>/.mmscope-gdb-<pid>-XXXXXX/sock" in a fresh 0700
 * directory, and PATH (what --gdb=unix:PATH says) is a symbolic link to
 * it.  Shared by the agent (making, taking over a stale one) and
 * `mmscope run` (cleaning up after a program that died).  Normal context.
 */
#ifndef MMS_UTIL_SOCKPATH_H
#define MMS_UTIL_SOCKPATH_H

#include <stdbool.h>
#include <stddef.h>

#define SOCKPATH_DIR_PREFIX ".mmscope-gdb-"

/* The directory part of path ("." when it has none). */
void sockpath_dir(const char *path, char *dir, size_t cap);
/* Is path a link mmscope made (or an older mmscope's plain socket), ours,
 * whose socket nobody answers on (a run that died, an earlier image of
 * the process before exec)?  Then it, the socket and its directory go;
 * true when path was removed. */
bool sockpath_remove_stale(const char *path);
/* The pid of the process whose stub made the link at path (its private
 * directory's name says), or 0: no link, or not one mmscope made. */
long sockpath_owner(const char *path);

#endif
