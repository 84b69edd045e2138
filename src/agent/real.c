/* SPDX-License-Identifier: MIT */
/* The real libc functions behind our interposers (see real.h). */
#include <dlfcn.h>

#include "agent/real.h"

static struct real_fns fns;
static int resolved;

#define LOOK(name) fns.name = (typeof(fns.name))dlsym(RTLD_NEXT, #name)

static void resolve(void)
{
	LOOK(read);
	LOOK(write);
	LOOK(pread);
	LOOK(pwrite);
	LOOK(send);
	LOOK(recv);
	LOOK(close);
	LOOK(syscall);
	LOOK(nanosleep);
	LOOK(clock_nanosleep);
	LOOK(sigaction);
	LOOK(sigprocmask);
	LOOK(pthread_sigmask);
	LOOK(pthread_create);
	LOOK(io_uring_queue_init_params);
	LOOK(io_uring_queue_init);
	LOOK(io_uring_queue_mmap);
	LOOK(io_uring_queue_exit);
	__atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
}

/* before the agent's constructor (102) */
__attribute__((constructor(101))) static void real_init(void)
{
	resolve();
}

const struct real_fns *real_get(void)
{
	if (!__atomic_load_n(&resolved, __ATOMIC_ACQUIRE))
		resolve();
	return &fns;
}
