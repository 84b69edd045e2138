/* SPDX-License-Identifier: MIT */
/*
 * liburing maps and unmaps its rings with raw system calls, which the
 * mmap interposer cannot see.  Its public entry points are interposed
 * instead: after a ring is set up (or before it is torn down) the region
 * table is reconciled with /proc/self/maps.  Accesses liburing makes while
 * setting the ring up, inside these calls, are not traced.
 */
#include <dlfcn.h>

#include "agent/agent.h"

struct io_uring;
struct io_uring_params;

#define REAL(name)                 \
	static typeof(name) *real; \
	if (!real)                 \
	real = (typeof(name) *)dlsym(RTLD_NEXT, #name)

MMS_EXPORT int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
					  struct io_uring_params *p);
MMS_EXPORT int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags);
MMS_EXPORT int io_uring_queue_mmap(int fd, struct io_uring_params *p, struct io_uring *ring);
MMS_EXPORT void io_uring_queue_exit(struct io_uring *ring);

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p)
{
	REAL(io_uring_queue_init_params);
	int r = real ? real(entries, ring, p) : -38;

	if (r == 0 && agent.active)
		intercept_reconcile(0);
	return r;
}

int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
	REAL(io_uring_queue_init);
	int r = real ? real(entries, ring, flags) : -38;

	if (r == 0 && agent.active)
		intercept_reconcile(0);
	return r;
}

int io_uring_queue_mmap(int fd, struct io_uring_params *p, struct io_uring *ring)
{
	REAL(io_uring_queue_mmap);
	int r = real ? real(fd, p, ring) : -38;

	if (r == 0 && agent.active)
		intercept_reconcile(0);
	return r;
}

void io_uring_queue_exit(struct io_uring *ring)
{
	REAL(io_uring_queue_exit);
	if (real)
		real(ring);
	if (agent.active)
		intercept_reconcile(0);
}
