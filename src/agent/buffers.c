/* SPDX-License-Identifier: MIT */
/*
 * Buffers in traced memory handed to the kernel.  The program's view of a
 * traced mapping is PROT_NONE, so read(fd, traced_buf, n) would fail with
 * EFAULT under mmscope.  The common data-moving calls are interposed and
 * given the alias address instead, so the program is not harmed.  The
 * kernel's own accesses are not instructions of the program and are not
 * recorded.  A buffer that does not lie inside one region is passed
 * through unchanged.
 */
#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/agent.h"

static void *translate(const void *buf, size_t n)
{
	struct region r;
	uint64_t a = (uint64_t)buf;

	if (!agent.active || !n || region_find(&agent.regions, a, &r) < 0 || !r.alias ||
	    a + n > r.end || a + n < a)
		return (void *)buf;
	return r.alias + (a - r.start);
}

#define REAL(name) \
	static typeof(name) *real; \
	if (!real) \
		real = (typeof(name) *)dlsym(RTLD_NEXT, #name)

MMS_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	watch_check_tracer();
	return real(fd, translate(buf, n), n);
}

MMS_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	watch_check_tracer();
	return real(fd, translate(buf, n), n);
}

MMS_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread);
	return real(fd, translate(buf, n), n, off);
}

MMS_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	return real(fd, translate(buf, n), n, off);
}

MMS_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
	__attribute__((alias("pread")));
MMS_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
	__attribute__((alias("pwrite")));

MMS_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	REAL(send);
	return real(fd, translate(buf, n), n, flags);
}

MMS_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	REAL(recv);
	return real(fd, translate(buf, n), n, flags);
}
