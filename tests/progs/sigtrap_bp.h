/* SPDX-License-Identifier: MIT */
/*
 * For the test programs that use the debug registers themselves: an
 * 8-byte hardware breakpoint of the calling thread, opened the way a
 * program does it (perf_event_open through libc's syscall(), which mmscope
 * interposes), with sigtrap: every hit sends a SIGTRAP (si_code TRAP_PERF)
 * carrying cookie in si_perf_data.  An fd, or -1 with errno.
 */
#ifndef MMS_TEST_SIGTRAP_BP_H
#define MMS_TEST_SIGTRAP_BP_H

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sigtrap_bp(volatile void *addr, int type, uint64_t cookie)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = type;
	a.bp_addr = (uint64_t)(uintptr_t)addr;
	a.bp_len = 8;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	a.sig_data = cookie;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

#endif
