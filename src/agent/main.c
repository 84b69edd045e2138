/* SPDX-License-Identifier: MIT */
/*
 * libmmscope-agent.so: preloaded by `mmscope run`.  Reads the config named
 * by MMSCOPE_CONFIG, opens the trace directory, installs the fault
 * handlers and arms mappings that already exist.  Without MMSCOPE_CONFIG it
 * stays inert.  It never exits or aborts the program: on any setup failure
 * it says why on stderr once and lets the program run untraced.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "agent/debugsock.h"
#include "agent/mem.h"
#include "agent/observe.h"
#include "agent/record.h"
#include "agent/seccomp.h"
#include "engine/emulate.h"
#include "mmscope/trace-format.h"
#include "util/proc.h"
#include "util/sys.h"

#define LOG_DOMAIN NULL
#include "util/log.h"

struct agent agent = {
	.arb_lock = MLOCK_INIT,
	.dirfd = -1,
	.memfd = -1,
};

int agent_high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, AGENT_FD_MIN);

	if (h < 0)
		return fd;
	sys_close(fd);
	return h;
}

/* The region table is consistent in the child: no other thread of the
 * parent is half-way through changing it when fork copies it. */
static void before_fork(void)
{
	if (agent.active)
		obs_before_fork();
}

static void after_fork_parent(void)
{
	if (agent.active)
		obs_after_fork(0);
}

/*
 * The trace's shared page (struct mms_seq_page): `mmscope run` creates it
 * fully allocated; open it without following a symlink and check it is a
 * regular file that big, so nobody SIGBUSes on it.  Made here only when
 * missing (an agent started without `mmscope run`), also fully allocated.
 */
static int seq_page_open(struct mms_seq_page **out)
{
	struct stat st;
	void *p;
	long fd = sys_openat(agent.dirfd, MMS_SEQ_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);

	if (fd == -ENOENT) {
		fd = sys_openat(agent.dirfd, MMS_SEQ_FILE,
				O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 &&
		    sys_call4(SYS_fallocate, fd, 0, 0, sizeof(struct mms_seq_page)) < 0) {
			sys_close((int)fd);
			unlinkat(agent.dirfd, MMS_SEQ_FILE, 0);
			return -ENOSPC;
		}
	}
	if (fd < 0)
		return (int)fd;
	if (sys_call2(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct mms_seq_page) || st.st_uid != geteuid()) {
		sys_close((int)fd);
		return -EINVAL;
	}
	p = sys_mmap(NULL, sizeof(struct mms_seq_page), PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd,
		     0);
	sys_close((int)fd);
	if (sys_mmap_failed(p))
		return (int)(long)p;
	*out = p;
	return 0;
}

static void after_fork_child(void)
{
	struct region snap[64];
	uint64_t from = 0;
	int n;

	if (!agent.active)
		return;
	obs_after_fork(1);
	/* a thread of the parent that held it does not exist here */
	mlock_reset(&agent.arb_lock);
	agent.gen++;
	agent.pid = (int)sys_getpid();
	thread_after_fork();
	hot_after_fork();
	rec_proc(MMS_PROC_FORK, getppid(), "");
	agent_save_maps();
	mem_setup(); /* the inherited descriptor reads the parent's memory */
	watch_after_fork();
	debug_after_fork();
	/* The child keeps the parent's armed regions: say so in its trace. */
	while ((n = region_overlaps(&agent.regions, from, UINT64_MAX, snap, 64)) > 0) {
		for (int i = 0; i < n; i++)
			rec_map(&snap[i], "(inherited)", 0, MMS_MF_INHERITED);
		from = snap[n - 1].end;
		if (n < 64)
			break;
	}
}

/* A copy of /proc/self/maps in the trace directory, "maps-PID-SEQ": what
 * `mmscope show` symbolises pcs and call chains with (libdwfl).  Saved at
 * start, in a fork child and at exit (which also names the libraries
 * dlopen()ed meanwhile; dlopen itself is not interposed, as it resolves
 * names from its caller's run path). */
void agent_save_maps(void)
{
	char name[64], buf[8192];
	int in, out;
	long n;

	snprintf(name, sizeof(name), "maps-%d-%llu", agent.pid, (unsigned long long)rec_next_seq());
	in = (int)proc_open("self/maps", O_RDONLY);
	out = (int)sys_openat(agent.dirfd, name,
			      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	while (in >= 0 && out >= 0 && (n = sys_read(in, buf, sizeof(buf))) > 0)
		if (sys_write(out, buf, (size_t)n) != n)
			break;
	if (in >= 0)
		sys_close(in);
	if (out >= 0)
		sys_close(out);
}

__attribute__((constructor(102))) static void agent_init(void)
{
	const char *path = getenv(CONFIG_ENV);
	char err[PATH_MAX + 128], exe[PATH_MAX];
	int fd, r;
	ssize_t n;

	if (!path || !*path)
		return;
	log_prog = "mmscope-agent";
	if (config_read(&agent.cfg, path, err, sizeof(err)) < 0) {
		dprintf(2, "mmscope-agent: %s; not tracing\n", err);
		return;
	}
	agent.dirfd = open(agent.cfg.out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (agent.dirfd < 0) {
		dprintf(2, "mmscope-agent: cannot open %s: %s; not tracing\n", agent.cfg.out,
			strerror(errno));
		return;
	}
	agent.dirfd = agent_high_fd(agent.dirfd);
	fd = openat(agent.dirfd, "agent.log",
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	log_fd = fd >= 0 ? agent_high_fd(fd) : -1;
	/* room for the log reserved now: "disk full" itself must still fit */
	if (log_fd >= 0)
		fallocate(log_fd, FALLOC_FL_KEEP_SIZE, 0, 64 << 10);
	log_max = agent.cfg.verbose ? LOG_DEBUG : LOG_INFO;
	if ((r = proc_init()) < 0) {
		dprintf(2, "mmscope-agent: cannot open /proc: %s; not tracing\n", strerror(-r));
		return;
	}
	if ((r = seq_page_open(&agent.page)) < 0) {
		dprintf(2, "mmscope-agent: %s/%s: %s; not tracing\n", agent.cfg.out, MMS_SEQ_FILE,
			strerror(-r));
		return;
	}
	agent.pid = (int)sys_getpid();
	emu_init();
	signals_install();
	if (agent.cfg.core) /* the core dumper writes before these kill */
		signals_borrow(1ull << (SIGQUIT - 1) | 1ull << (SIGABRT - 1) |
			       1ull << (SIGXCPU - 1) | 1ull << (SIGXFSZ - 1));
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	agent.active = true;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	rec_proc(MMS_PROC_START, getppid(), exe);
	agent_save_maps();
	obs_reconcile(MMS_MF_INHERITED);
	seccomp_setup();
	mem_setup();
	watch_setup();
	hot_setup();
	debug_start();
}

/* The process is exiting normally: the exiting thread's stream ends at its
 * last record (threads that exited earlier closed theirs, see
 * thread_release()).  A record made after this starts a new stream. */
__attribute__((destructor(101))) static void agent_fini(void)
{
	if (agent.active) {
		agent_save_maps();
		hot_report();
		thread_release();
	}
}

/* _exit skips the destructors (fio's job processes end so): the same end
 * first, unless this is a vfork child, which shares the parent's memory
 * and thread state and must leave both alone (posix_spawn's child whose
 * exec failed). */
MMS_EXPORT void _exit(int status)
{
	if (agent.active && sys_getpid() == agent.pid)
		agent_fini();
	for (;;)
		sys_call1(SYS_exit_group, status);
}

MMS_EXPORT void _Exit(int status) __attribute__((alias("_exit")));
