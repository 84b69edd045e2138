/* SPDX-License-Identifier: MIT */
/*
 * /proc without stdio and without depending on the process's root: a
 * descriptor for /proc is opened once at start, and every later look goes
 * through it ("self/maps", "self/fd/3", "self/task"), so a program that
 * chroots or unmounts /proc is still seen.  "self" is resolved at each
 * call, so the descriptor stays right in a fork child.  Raw system calls
 * only: safe in signal context.
 */
#ifndef MMS_UTIL_PROC_H
#define MMS_UTIL_PROC_H

#include <stddef.h>
#include <stdint.h>

/* Open /proc (normal context, before the program can chroot).  0 or -errno. */
int proc_init(void);
/* The descriptor, -1 before proc_init(); for a fork child to keep. */
int proc_fd(void);

/* signal context: openat(/proc, rel, flags|O_CLOEXEC).  fd or -errno. */
long proc_open(const char *rel, int flags);
/* signal context: the target of the link /proc/rel, NUL-terminated.
 * Length or -errno (-ENAMETOOLONG if it does not fit). */
long proc_readlink(const char *rel, char *buf, size_t cap);

/* signal context: up to cap bytes of the file /proc/rel (not
 * NUL-terminated).  Length or -errno. */
long proc_read(const char *rel, char *buf, size_t cap);

/* signal context: call fn for each thread id of this process (reading
 * /proc/self/task with getdents64); stops early when fn returns nonzero
 * and returns that value; 0 after the last, -errno if the list cannot be
 * read. */
int proc_each_task(int (*fn)(void *arg, int tid), void *arg);

#endif
