/* SPDX-License-Identifier: MIT */
/*
 * The one observer of the mmap family.  Whether the program called libc's
 * mmap (intercept.c), libc's syscall() (hwshare.c) or executed a raw
 * `syscall` instruction caught by the seccomp filter (seccomp.c), the call
 * ends up here: each function makes the system call itself, with the
 * result the program would get without mmscope (>= 0 or -errno), and keeps
 * the region table, the aliases and the trace in step.  signal context:
 * raw system calls, no allocation; the region table's writers serialise on
 * one lock that blocks every signal while it is held (util/lock.h).
 */
#ifndef MMS_AGENT_OBSERVE_H
#define MMS_AGENT_OBSERVE_H

#include <signal.h>
#include <errno.h>
#include <stdint.h>

#include "agent/debugsock.h"

/* The caller of an interposed function: the pc records name. */
#define PC() debug_caller((uint64_t)__builtin_return_address(0))

/* An observer's -errno result as libc returns it: -1 and errno. */
static inline long obs_errno(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

long obs_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, long off, uint64_t pc);
long obs_munmap(uint64_t addr, uint64_t len, uint64_t pc);
long obs_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr,
		uint64_t pc);
long obs_mprotect(uint64_t addr, uint64_t len, int prot, uint64_t pc);

/*
 * Bring the region table in line with /proc/self/maps: arm selected shared
 * mappings not seen being made (made before the agent started), forget
 * regions whose mapping is gone.  mapflags go into the MAP records
 * (MMS_MF_INHERITED at start).  Takes the table lock for the whole pass.
 */
void obs_reconcile(uint32_t mapflags);

/* signal context: the last resort when mmscope itself cannot go on with
 * the region holding addr (no memory for a thread's state): give the
 * program its own view back, forget the region and say so (PROC
 * untraced, agent.log).  The program then runs natively there, never
 * harmed by mmscope's failure.  0, or -ENOENT if addr is in no region. */
int obs_give_up(uint64_t addr, const char *why);

/* The region table's writer lock (blocks every signal while held). */
void agent_table_lock(sigset_t *old);
void agent_table_unlock(const sigset_t *old);
/* Does thread tid hold the region table's lock? */
bool agent_table_held_by(int tid);
/* fork: the table is consistent in the child (taken before, given after) */
void obs_before_fork(void);
void obs_after_fork(int child);

#endif
