/* SPDX-License-Identifier: MIT */
/*
 * Core dumps that include the device (docs/core.md): an ELF core of the
 * program as gdb reads the kernel's, with every thread's registers, the
 * traced pages read through their aliases, and each traced device region
 * filled from its shadow register file instead of the device.  Written
 * in signal context by a dying thread: no malloc, no stdio, bounded
 * memory, the other threads parked first.
 */
#ifndef MMS_AGENT_CORE_H
#define MMS_AGENT_CORE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ucontext.h>

enum core_mode { CORE_OFF = 0, CORE_ON = 1, CORE_FULL = 2 };

/* One thread of the core: its context and the segment bases only the
 * thread itself can read. */
struct core_thread {
	int tid;
	const ucontext_t *uc;
	uint64_t fs_base, gs_base;
};

/* Write a core of the threads (the first is the one the signal is for;
 * sig 0 and si NULL for a dump of a running program) to fd, each device
 * region from its shadow or, with device_reads, read from the device
 * (core.c).  Returns 0, or -errno of the first write that failed (the
 * MMSCOPE note then still says the file is partial). */
int core_write(int fd, const struct core_thread *t, int n, int sig, const siginfo_t *si,
	       enum core_mode mode, bool device_reads);

/* core-take.c.  Signal context: the calling thread is about to die of sig (si, uc):
 * park the others and write DIR/core.PID, if --core says so; a line in
 * agent.log either way. */
void core_on_fatal(int sig, const siginfo_t *si, const ucontext_t *uc);

/* Every program thread parked and held (a debugger stop, debug_hold):
 * a core of the running program into fd, which goes on afterwards; 0 or
 * -errno as core_write, the threads' count in *nthreads. */
int core_dump_stopped(int fd, enum core_mode mode, bool device_reads, int *nthreads);

/* The same for `monitor dump` and ctl's `dump`: args "[--full] FILE"
 * (relative to the program's cwd; a symbolic link there is not
 * followed); a message for the user in msg; 0 or -errno.  Normal
 * context. */
long core_dump_to(const char *args, char *msg, size_t cap);

/* Signal context: the signal the calling thread was dying of when it
 * began writing a crash core (a fault inside the writer must not change
 * how the program dies), 0 if it is not writing one. */
int core_dying_of(void);

/* Does sig's default action dump core (signal(7))? */
bool core_signal(int sig);

#endif
