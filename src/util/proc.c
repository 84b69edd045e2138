/* SPDX-License-Identifier: MIT */
/* /proc through one descriptor opened at start (see proc.h). */
#include <errno.h>
#include <fcntl.h>

#include "util/proc.h"
#include "util/sys.h"

static int procfd = -1;

int proc_init(void)
{
	long fd;

	if (procfd >= 0)
		return 0;
	fd = sys_openat(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return (int)fd;
	procfd = (int)fd;
	return 0;
}

int proc_fd(void)
{
	return procfd;
}

/* signal context */
long proc_open(const char *rel, int flags)
{
	if (procfd < 0)
		return -EBADF;
	return sys_openat(procfd, rel, flags | O_CLOEXEC, 0);
}

/* signal context */
long proc_readlink(const char *rel, char *buf, size_t cap)
{
	long n;

	if (procfd < 0)
		return -EBADF;
	if (cap < 2)
		return -ENAMETOOLONG;
	n = sys_call4(SYS_readlinkat, procfd, rel, buf, cap);
	if (n < 0)
		return n;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG;
	buf[n] = 0;
	return n;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int parse_tid(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1 << 30)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

/* signal context */
int proc_each_task(int (*fn)(void *arg, int tid), void *arg)
{
	char buf[2048] __attribute__((aligned(8)));
	long fd = proc_open("self/task", O_RDONLY | O_DIRECTORY), n;
	int r = 0;

	if (fd < 0)
		return (int)fd;
	while (!r && (n = sys_call3(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n && !r;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			int tid = parse_tid(d->d_name);
			off += d->d_reclen;
			if (tid > 0)
				r = fn(arg, tid);
		}
	}
	sys_close((int)fd);
	return r;
}

long proc_read(const char *rel, char *buf, size_t cap)
{
	long fd = proc_open(rel, O_RDONLY), n, got = 0;

	if (fd < 0)
		return fd;
	while ((size_t)got < cap && (n = sys_read((int)fd, buf + got, cap - (size_t)got)) > 0)
		got += n;
	sys_close((int)fd);
	return got;
}
