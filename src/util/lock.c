/* SPDX-License-Identifier: MIT */
/* See lock.h.  The three-state futex mutex ("Futexes Are Tricky",
 * U. Drepper, mutex 2). */
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>

#include "util/lock.h"
#include "util/sys.h"

static void block_all(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	sys_rt_sigprocmask(SIG_BLOCK, &all, saved);
}

/* signal context */
void mlock_block_async(sigset_t *saved)
{
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGTRAP);
	sigdelset(&set, SIGSYS);
	sys_rt_sigprocmask(SIG_BLOCK, &set, saved);
}

/* signal context */
void mlock_take(struct mlock *l, sigset_t *saved)
{
	int c = 0;

	block_all(saved);
	if (!__atomic_compare_exchange_n(&l->word, &c, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		if (c != 2)
			c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
		while (c) {
			sys_futex(&l->word, FUTEX_WAIT_PRIVATE, 2, NULL);
			c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
		}
	}
	l->owner = (int)sys_gettid();
}

/* signal context */
int mlock_try(struct mlock *l, sigset_t *saved)
{
	int c = 0;

	block_all(saved);
	if (!__atomic_compare_exchange_n(&l->word, &c, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		sys_rt_sigprocmask(SIG_SETMASK, saved, NULL);
		return -EBUSY;
	}
	l->owner = (int)sys_gettid();
	return 0;
}

/* signal context */
void mlock_give(struct mlock *l, const sigset_t *saved)
{
	l->owner = 0;
	if (__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) == 2)
		sys_futex(&l->word, FUTEX_WAKE_PRIVATE, 1, NULL);
	sys_rt_sigprocmask(SIG_SETMASK, saved, NULL);
}

int mlock_held(const struct mlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_ACQUIRE) && l->owner == (int)sys_gettid();
}

void mlock_reset(struct mlock *l)
{
	l->word = 0;
	l->owner = 0;
}
