/* SPDX-License-Identifier: MIT */
/*
 * Raw system calls that never touch errno and never pass through the
 * symbols the agent interposes (mmap, munmap, sigaction ...).  Safe in
 * signal context.  Each returns the kernel's value: >= 0 or -errno.
 */
#ifndef MMS_UTIL_SYS_H
#define MMS_UTIL_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

static inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys_call0(n) sys_call6(n, 0, 0, 0, 0, 0, 0)
#define sys_call1(n, a) sys_call6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys_call2(n, a, b) sys_call6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys_call3(n, a, b, c) sys_call6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys_call4(n, a, b, c, d) sys_call6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return (void *)sys_call6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}
static inline int sys_mmap_failed(void *p)
{
	return (unsigned long)p > -4096UL;
}
static inline long sys_munmap(void *addr, size_t len)
{
	return sys_call2(SYS_munmap, addr, len);
}
static inline long sys_mprotect(void *addr, size_t len, int prot)
{
	return sys_call3(SYS_mprotect, addr, len, prot);
}
static inline void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return (void *)sys_call6(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags,
				 (long)new_addr, 0);
}
static inline long sys_gettid(void)
{
	return sys_call0(SYS_gettid);
}
static inline long sys_getpid(void)
{
	return sys_call0(SYS_getpid);
}
static inline long sys_tgkill(long pid, long tid, int sig)
{
	return sys_call3(SYS_tgkill, pid, tid, sig);
}
static inline long sys_write(int fd, const void *buf, size_t n)
{
	return sys_call3(SYS_write, fd, buf, n);
}
static inline long sys_read(int fd, void *buf, size_t n)
{
	return sys_call3(SYS_read, fd, buf, n);
}
static inline long sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return sys_call4(SYS_openat, dirfd, path, flags, mode);
}
static inline long sys_close(int fd)
{
	return sys_call1(SYS_close, fd);
}
static inline long sys_ftruncate(int fd, long len)
{
	return sys_call2(SYS_ftruncate, fd, len);
}
static inline long sys_futex(int *uaddr, int op, int val, const void *timeout)
{
	return sys_call4(SYS_futex, uaddr, op, val, timeout);
}
static inline long sys_rt_sigprocmask(int how, const void *set, void *old)
{
	return sys_call4(SYS_rt_sigprocmask, how, set, old, 8);
}
static inline long sys_rt_sigaction(int sig, const void *act, void *old)
{
	return sys_call4(SYS_rt_sigaction, sig, act, old, 8);
}

#endif
