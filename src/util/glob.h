/* SPDX-License-Identifier: MIT */
/*
 * The --map/--device pattern matcher: fnmatch(pattern, string, 0) of the
 * C locale, byte by byte (*, ?, [...], [!...] and [^...], ranges,
 * [:class:], [=c=], [.c.], backslash escapes; '*' and '?' match '/' and
 * leading dots).  The kernel's own names hold brackets that a glob reads
 * as a set ("anon_inode:[io_uring]", "socket:[4711]"), so a pattern also
 * matches when it is equal to the string, or when it matches with '['
 * read as an ordinary byte ("socket:[*]" matches "socket:[4711]"; as a
 * glob it would match only "socket:*").  No allocation, no locale, no
 * libc: the agent calls it from signal handlers.
 */
#ifndef MMS_UTIL_GLOB_H
#define MMS_UTIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* signal context */
bool glob_match(const char *pattern, const char *string);

/* 0 if pattern is well formed, else -EINVAL with the reason in err: an
 * unterminated '[', a trailing backslash, an unknown [:class:], a
 * collating element of more than one byte, a malformed [=c=], a range
 * whose end comes before its start.  (glob_match still gives such a
 * pattern fnmatch's reading.) */
int glob_check(const char *pattern, char *err, size_t errlen);

#endif
