/* SPDX-License-Identifier: MIT */
/*
 * User-space hardware breakpoints through perf_event_open(2) with
 * PERF_TYPE_BREAKPOINT: the one way an unprivileged process can use the
 * x86 debug registers DR0-DR3 (the kernel shares them out per task).
 * Shared by `mmscope probe` and the agent; raw system calls only, so the
 * agent never goes through its own syscall() interposer.
 */
#ifndef MMS_UTIL_HWBP_H
#define MMS_UTIL_HWBP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <linux/hw_breakpoint.h>

#ifndef TRAP_PERF
#define TRAP_PERF 6 /* si_code of a perf event with sigtrap=1 */
#endif

/* Open a breakpoint on thread tid (0: the caller) covering [addr, addr+len)
 * of type HW_BREAKPOINT_W, HW_BREAKPOINT_RW, HW_BREAKPOINT_R or
 * HW_BREAKPOINT_X.  With sigtrap, every hit sends the thread a synchronous
 * SIGTRAP (si_code TRAP_PERF) carrying cookie; the event is removed on exec,
 * which the kernel requires for sigtrap.  Returns an fd (O_CLOEXEC) or
 * -errno: -ENOSPC when the task has no debug register left, -EINVAL for a
 * type or length the hardware cannot do. */
int hwbp_open(pid_t tid, uint64_t addr, unsigned len, unsigned type, bool sigtrap, uint64_t cookie);
/* The same, inherited by every thread the thread creates from now on (not
 * by forked processes). */
int hwbp_open_inherited(pid_t tid, uint64_t addr, unsigned len, unsigned type, uint64_t cookie);
/* The event's hit count so far (the first value a read gives; not for a
 * PERF_FORMAT_GROUP event), or -errno. */
int64_t hwbp_count(int fd);
int hwbp_enable(int fd, bool on);

/* signal context: the cookie of a TRAP_PERF SIGTRAP.  glibc's siginfo_t
 * does not name the field; it is the long after si_addr
 * (include/uapi/asm-generic/siginfo.h, _sigfault._perf._data). */
static inline uint64_t hwbp_si_cookie(const siginfo_t *si)
{
	uint64_t v;
	memcpy(&v, (const char *)si + 24, sizeof(v));
	return v;
}

/* signal context: the SIGTRAP a breakpoint's overflow sends (the kernel's
 * force_sig_perf: si_addr the breakpoint's address, then si_perf_data,
 * si_perf_type and si_perf_flags, at the offsets of hwbp_si_cookie). */
static inline void hwbp_si_fill(siginfo_t *si, uint64_t bp_addr, uint64_t cookie)
{
	uint32_t type = 5 /* PERF_TYPE_BREAKPOINT */, flags = 0;

	memset(si, 0, sizeof(*si));
	si->si_signo = SIGTRAP;
	si->si_code = TRAP_PERF;
	si->si_addr = (void *)(uintptr_t)bp_addr;
	memcpy((char *)si + 24, &cookie, sizeof(cookie));
	memcpy((char *)si + 32, &type, sizeof(type));
	memcpy((char *)si + 36, &flags, sizeof(flags));
}

#endif
