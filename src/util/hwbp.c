/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "util/hwbp.h"
#include "util/sys.h"

static int open_bp(pid_t tid, uint64_t addr, unsigned len, unsigned type, bool sigtrap,
		   uint64_t cookie, bool inherit)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = type;
	a.bp_addr = addr;
	a.bp_len = len;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	if (sigtrap) {
		a.sigtrap = 1;
		a.remove_on_exec = 1;
		a.sig_data = cookie;
	}
	if (inherit) {
		a.inherit = 1;
		a.inherit_thread = 1;
	}
	fd = sys_call6(SYS_perf_event_open, (long)&a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC, 0);
	return (int)fd;
}

int hwbp_open(pid_t tid, uint64_t addr, unsigned len, unsigned type, bool sigtrap, uint64_t cookie)
{
	return open_bp(tid, addr, len, type, sigtrap, cookie, false);
}

int hwbp_open_inherited(pid_t tid, uint64_t addr, unsigned len, unsigned type, uint64_t cookie)
{
	return open_bp(tid, addr, len, type, true, cookie, true);
}

int64_t hwbp_count(int fd)
{
	/* room for the value and every read_format field but a group's
	 * (a program's own event may ask for times, id, lost count) */
	uint64_t v[8];
	long n = sys_read(fd, v, sizeof(v));

	if (n < 0)
		return n;
	return n >= (long)sizeof(v[0]) ? (int64_t)v[0] : -EIO;
}

int hwbp_enable(int fd, bool on)
{
	return (int)sys_call3(SYS_ioctl, fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE,
			      0);
}
