/* SPDX-License-Identifier: MIT */
/*
 * The agent's one kind of lock.  Taking it blocks every signal of the
 * calling thread first (restored when it is given back), so:
 *  - no signal handler, ours or the program's, runs on a thread that holds
 *    it: a handler can never wait for a lock its own thread holds;
 *  - a holder cannot be parked by the single-step slow path (the park
 *    signal waits too): nobody waits for a parked holder;
 *  - it may be taken in signal context (a SIGSEGV or SIGSYS handler),
 *    where waiting for another thread's short critical section is fine.
 * A futex word, raw system calls, no allocation.  Not recursive.
 */
#ifndef MMS_UTIL_LOCK_H
#define MMS_UTIL_LOCK_H

#include <signal.h>

struct mlock {
	int word;  /* 0 free, 1 held, 2 held with waiters */
	int owner; /* tid of the holder, for assertions and diagnostics */
};

#define MLOCK_INIT   \
	{            \
		0, 0 \
	}

/* signal context */
void mlock_take(struct mlock *l, sigset_t *saved);
void mlock_give(struct mlock *l, const sigset_t *saved);
/* 0 and the lock taken, or -EBUSY (signals as they were) */
int mlock_try(struct mlock *l, sigset_t *saved);
/* does the calling thread hold it? */
int mlock_held(const struct mlock *l);
/* For a lock of another kind (a recursive one, whose holder may take a
 * nested synchronous fault): block every signal but the synchronous ones
 * (SEGV, BUS, ILL, FPE, TRAP, SYS), so that the holder, too, cannot be
 * parked or run an asynchronous handler.  Restore with SIG_SETMASK. */
void mlock_block_async(sigset_t *saved);
/* a fork child: whoever held it in the parent does not exist here */
void mlock_reset(struct mlock *l);

#endif
