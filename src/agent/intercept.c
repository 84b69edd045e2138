/* SPDX-License-Identifier: MIT */
/*
 * The libc entry points of the mmap family.  Each hands the call to the
 * observer (observe.c), which makes the system call, keeps the region
 * table in step and returns the kernel's result; here it only becomes
 * libc's convention (errno, MAP_FAILED).
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/observe.h"

MMS_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = obs_mmap((uint64_t)addr, len, prot, flags, fd, off, PC());

	return obs_errno(r) == -1 ? MAP_FAILED : (void *)r;
}

MMS_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

MMS_EXPORT int munmap(void *addr, size_t len)
{
	return (int)obs_errno(obs_munmap((uint64_t)addr, len, PC()));
}

MMS_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	uint64_t new_addr = 0;
	va_list ap;
	long r;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = (uint64_t)va_arg(ap, void *);
		va_end(ap);
	}
	r = obs_mremap((uint64_t)old, old_len, new_len, flags, new_addr, PC());
	return obs_errno(r) == -1 ? MAP_FAILED : (void *)r;
}

MMS_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	return (int)obs_errno(obs_mprotect((uint64_t)addr, len, prot, PC()));
}
