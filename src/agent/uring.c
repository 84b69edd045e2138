/* SPDX-License-Identifier: MIT */
/*
 * liburing maps and unmaps its rings with raw system calls.  Where the
 * seccomp filter traps those (seccomp.c) nothing is needed here.  Where it
 * could not be installed, liburing's public entry points are the next best
 * thing: after a ring is set up (or after it is torn down) the region
 * table is reconciled with /proc/self/maps; accesses liburing makes inside
 * these calls are then not traced.
 */

#include "agent/agent.h"
#include "agent/real.h"
#include "agent/observe.h"
#include "agent/seccomp.h"

/* Only needed where raw mmap calls are not trapped (seccomp.c). */
static void uring_reconcile(void)
{
	if (!seccomp_active())
		obs_reconcile(0);
}

struct io_uring;
struct io_uring_params;

MMS_EXPORT int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
					  struct io_uring_params *p);
MMS_EXPORT int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags);
MMS_EXPORT int io_uring_queue_mmap(int fd, struct io_uring_params *p, struct io_uring *ring);
MMS_EXPORT void io_uring_queue_exit(struct io_uring *ring);

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p)
{
	typeof(REAL(io_uring_queue_init_params)) real = REAL(io_uring_queue_init_params);

	int r = real ? real(entries, ring, p) : -38;

	if (r == 0 && agent.active)
		uring_reconcile();
	return r;
}

int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
	typeof(REAL(io_uring_queue_init)) real = REAL(io_uring_queue_init);

	int r = real ? real(entries, ring, flags) : -38;

	if (r == 0 && agent.active)
		uring_reconcile();
	return r;
}

int io_uring_queue_mmap(int fd, struct io_uring_params *p, struct io_uring *ring)
{
	typeof(REAL(io_uring_queue_mmap)) real = REAL(io_uring_queue_mmap);

	int r = real ? real(fd, p, ring) : -38;

	if (r == 0 && agent.active)
		uring_reconcile();
	return r;
}

void io_uring_queue_exit(struct io_uring *ring)
{
	typeof(REAL(io_uring_queue_exit)) real = REAL(io_uring_queue_exit);

	if (real)
		real(ring);
	if (agent.active)
		uring_reconcile();
}
