/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/hwprobe.h"
#include "util/hwbp.h"

#define PROBE_COOKIE 0x6d6d73636f7065ull /* "mmscope" */

/* Triggers: each in its own 64-byte line so no two watchpoints overlap. */
static volatile uint64_t target[HWPROBE_MAX][8] __attribute__((aligned(64)));

/* eight distinct functions to break on (the trailing declaration lets
 * each use end with a semicolon) */
#define PROBE_FN(i)                                             \
	static __attribute__((noinline)) int probe_fn##i(int x) \
	{                                                       \
		__asm__ volatile("" : "+r"(x));                 \
		return x + i;                                   \
	}                                                       \
	extern int probe_fn_unused_
PROBE_FN(0);
PROBE_FN(1);
PROBE_FN(2);
PROBE_FN(3);
PROBE_FN(4);
PROBE_FN(5);
PROBE_FN(6);
PROBE_FN(7);

static int (*const probe_fn[HWPROBE_MAX])(int) = {
	probe_fn0, probe_fn1, probe_fn2, probe_fn3, probe_fn4, probe_fn5, probe_fn6, probe_fn7,
};

static volatile sig_atomic_t traps, good_traps;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	traps++;
	if (si->si_code == TRAP_PERF && hwbp_si_cookie(si) == PROBE_COOKIE)
		good_traps++;
}

static void close_all(int *fd, int n)
{
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* Open up to HWPROBE_MAX breakpoints of one type at once, trigger each
 * once, count those that fired. */
static void probe_many(unsigned type, int *open_out, int *fire_out, int *err_out)
{
	int fd[HWPROBE_MAX], n = 0, fired = 0;

	for (; n < HWPROBE_MAX; n++) {
		uint64_t addr =
			type == HW_BREAKPOINT_X ? (uint64_t)probe_fn[n] : (uint64_t)&target[n][0];
		fd[n] = hwbp_open(0, addr, type == HW_BREAKPOINT_X ? sizeof(long) : 8, type, false,
				  0);
		if (fd[n] < 0) {
			if (!n && err_out)
				*err_out = -fd[n];
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		if (type == HW_BREAKPOINT_X)
			(void)probe_fn[i](i);
		else
			target[i][0]++;
	}
	for (int i = 0; i < n; i++)
		if (hwbp_count(fd[i]) >= 1)
			fired++;
	close_all(fd, n);
	*open_out = n;
	*fire_out = fired;
}

/* One watchpoint of this type and length on target[0]; 1 if it opened and
 * fired on the given kind of access, 0 if it opened and did not, -errno. */
static int probe_one(unsigned type, unsigned len, bool by_read)
{
	int fd = hwbp_open(0, (uint64_t)&target[0][0], len, type, false, 0), r;

	if (fd < 0)
		return fd;
	if (by_read)
		(void)*(volatile uint8_t *)&target[0][0];
	else
		*(volatile uint8_t *)&target[0][0] = 1;
	r = hwbp_count(fd) >= 1;
	close(fd);
	return r;
}

static bool probe_sigtrap(void)
{
	struct sigaction sa, old;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, &old) < 0)
		return false;
	traps = good_traps = 0;
	fd = hwbp_open(0, (uint64_t)&target[1][0], 8, HW_BREAKPOINT_W, true, PROBE_COOKIE);
	if (fd >= 0) {
		target[1][0]++;
		close(fd);
	}
	sigaction(SIGTRAP, &old, NULL);
	return fd >= 0 && traps == 1 && good_traps == 1;
}

void hwprobe_run(struct hwprobe *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->page_size = sysconf(_SC_PAGESIZE);
	probe_many(HW_BREAKPOINT_X, &p->exec_open, &p->exec_fire, &p->perf_errno);
	probe_many(HW_BREAKPOINT_W, &p->data_open, &p->data_fire, &p->perf_errno);
	if (p->exec_open || p->data_open)
		p->perf_errno = 0;
	else if (!p->perf_errno)
		p->perf_errno = ENOSPC;
	p->rw_fires_on_read = probe_one(HW_BREAKPOINT_RW, 8, true) == 1;
	r = probe_one(HW_BREAKPOINT_R, 8, true);
	p->read_only_errno = r < 0 ? -r : 0;
	p->read_only_fires = r == 1;
	for (unsigned i = 0; i < 4; i++)
		if (probe_one(HW_BREAKPOINT_W, 1u << i, false) == 1)
			p->len_ok |= 1u << i;
	p->sigtrap = p->data_open && probe_sigtrap();
	p->slots = p->sigtrap ? p->data_fire : 0;
}
