/* SPDX-License-Identifier: MIT */
/*
 * When a core is taken (core.h): the program dies of a signal that dumps
 * core (core_on_fatal, in the dying thread's handler), or someone asks for
 * one of the running program (mmscope dump, ctl's dump, monitor dump).
 * Either way every other thread is parked first; core.c writes the file.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "agent/agent.h"
#include "agent/core.h"
#include "agent/observe.h"
#include "agent/park.h"
#include "util/dumpargs.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/sys.h"

bool core_signal(int sig)
{
	switch (sig) {
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGSYS:
	case SIGXCPU:
	case SIGXFSZ:
		return true;
	default:
		return false;
	}
}

static struct core_thread threads[PARK_MAX_THREADS];

/* signal context: a line in agent.log (no stdio here) */
static void say(const char *what, const char *name, int err, int nthreads, int sig)
{
	char line[256];
	size_t pos = 0;

	fmt_str(line, sizeof(line), &pos, "mmscope-agent: ");
	fmt_str(line, sizeof(line), &pos, what);
	fmt_str(line, sizeof(line), &pos, name);
	if (err) {
		fmt_str(line, sizeof(line), &pos, ": ");
		fmt_str(line, sizeof(line), &pos,
			strerrorname_np(err) ? strerrorname_np(err) : "?");
		fmt_str(line, sizeof(line), &pos, err == ENOSPC ? " (the disk is full)" : "");
	} else {
		fmt_str(line, sizeof(line), &pos, " (");
		fmt_u64(line, sizeof(line), &pos, (uint64_t)nthreads);
		fmt_str(line, sizeof(line), &pos, nthreads == 1 ? " thread" : " threads");
		fmt_str(line, sizeof(line), &pos, ", signal ");
		fmt_u64(line, sizeof(line), &pos, (uint64_t)sig);
		fmt_str(line, sizeof(line), &pos, ")");
	}
	fmt_str(line, sizeof(line), &pos, "\n");
	log_raw(line);
}

static uint64_t arch_get(int code)
{
	uint64_t v = 0;

	sys_call2(SYS_arch_prctl, code, (long)&v);
	return v;
}

/* the signal the thread writing a crash core is dying of, and its tid */
static int dying_sig, dying_tid;

int core_dying_of(void)
{
	int tid = __atomic_load_n(&dying_tid, __ATOMIC_ACQUIRE);

	return tid && tid == (int)sys_gettid() ? dying_sig : 0;
}

void core_on_fatal(int sig, const siginfo_t *si, const ucontext_t *uc)
{
	static int once;
	char name[32];
	size_t pos = 0;
	int self = (int)sys_gettid(), n = 0, r;
	long fd;

	if (agent.cfg.core == CORE_OFF || __atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
		return;
	if (agent_table_held_by(self)) {
		/* it died inside mmscope's own bookkeeping of mappings: their
		 * table is half-written, and reading it would wait for ever */
		log_raw("mmscope-agent: error: no core: the program died while mmscope was "
			"changing its table of mappings\n");
		return;
	}
	if (!park_held_by(self))
		park_begin_debug(self); /* held: the process dies next */
	threads[n++] = (struct core_thread){ .tid = self,
					     .uc = uc,
					     .fs_base = arch_get(ARCH_GET_FS),
					     .gs_base = arch_get(ARCH_GET_GS) };
	const struct park_slot *s = park_slots();
	for (int i = 0; i < PARK_MAX_THREADS && n < PARK_MAX_THREADS; i++)
		if (s[i].tid && s[i].uc && s[i].tid != self)
			threads[n++] = (struct core_thread){ .tid = s[i].tid,
							     .uc = s[i].uc,
							     .fs_base = s[i].fs_base,
							     .gs_base = s[i].gs_base };
	fmt_str(name, sizeof(name), &pos, "core.");
	fmt_u64(name, sizeof(name), &pos, (uint64_t)agent.pid);
	fd = sys_openat(agent.dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0) {
		say("error: cannot create ", name, -(int)fd, 0, 0);
		return;
	}
	dying_sig = sig;
	__atomic_store_n(&dying_tid, self, __ATOMIC_RELEASE);
	/* tests/e2e/test_core.py: a crash inside the writer (test only) */
	if (getenv("MMSCOPE_TEST_CORE_CRASH"))
		*(volatile int *)(uintptr_t)agent.cfg.core = 0; /* address 1 or 2 */
	r = core_write((int)fd, threads, n, sig, si, (enum core_mode)agent.cfg.core,
		       agent.cfg.core_device_reads);
	sys_close((int)fd);
	if (r < 0)
		say("error: could not finish ", name, -r, 0, 0); /* its note says partial */
	else
		say("info: wrote ", name, 0, n, sig);
}

int core_dump_stopped(int fd, enum core_mode mode, bool device_reads, int *nthreads)
{
	const struct park_slot *s = park_slots();
	int n = 0;

	for (int pass = 0; pass < 2; pass++) /* the main thread first */
		for (int i = 0; i < PARK_MAX_THREADS && n < PARK_MAX_THREADS; i++)
			if (s[i].tid && s[i].uc && (s[i].tid == agent.pid) == (pass == 0))
				threads[n++] = (struct core_thread){ .tid = s[i].tid,
								     .uc = s[i].uc,
								     .fs_base = s[i].fs_base,
								     .gs_base = s[i].gs_base };
	/* and mmscope's own thread writing it: gdb finds every thread in
	 * libc's list, and one without registers would puzzle it */
	static ucontext_t self;
	if (n < PARK_MAX_THREADS && getcontext(&self) == 0)
		threads[n++] = (struct core_thread){ .tid = (int)sys_gettid(),
						     .uc = &self,
						     .fs_base = arch_get(ARCH_GET_FS),
						     .gs_base = arch_get(ARCH_GET_GS) };
	*nthreads = n;
	return core_write(fd, threads, n, 0, NULL, mode, device_reads);
}

long core_dump_to(const char *args, char *msg, size_t cap)
{
	bool full, device_reads;
	const char *path = dumpargs_parse(args, &full, &device_reads);
	int n = 0, r;
	long fd;

	if (!*path || *path == '-') {
		snprintf(msg, cap, "dump [--full] [--device-reads] FILE: where to write the core");
		return -EINVAL;
	}
	fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0) {
		snprintf(msg, cap, "cannot create %s: %s", path, strerror((int)-fd));
		return fd;
	}
	r = core_dump_stopped((int)fd, full ? CORE_FULL : CORE_ON, device_reads, &n);
	sys_close((int)fd);
	if (r < 0) {
		snprintf(msg, cap, "%s is partial: %s", path, strerror(-r));
		return r;
	}
	snprintf(msg, cap, "wrote %s (%d thread%s)", path, n, n == 1 ? "" : "s");
	return 0;
}
