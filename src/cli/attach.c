/* SPDX-License-Identifier: MIT */
/*
 * Opening the debugger connection of a program started without --gdb
 * (docs/debugging.md, "Opening the connection later"; the agent's half is
 * src/agent/debuglate.c).
 *
 * One thread of the program is stopped with PTRACE_SEIZE + INTERRUPT,
 * which the program cannot see: a system call it was blocked in restarts
 * as if nothing had happened (no handler runs, so not even poll returns
 * EINTR).  If the thread stands where it holds no lock of the C library
 * -- in the program's own code, or blocked in one of the system calls
 * below -- it is given a call of the agent's mmscope_attach, which
 * returns to an int3 (mmscope_attach_done); its registers, vector state
 * included, are then put back and it is let go.  A thread standing
 * anywhere else is let go at once and another, or the same one a moment
 * later, is tried.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "util/hotstub.h"
#include "util/maps.h"

#define TRY_FOR_MS 3000	  /* looking for a thread that stands well */
#define CALL_FOR_MS 10000 /* the agent opening the connection */
#define XSTATE_MAX 16384

struct attach {
	long pid;
	uint64_t entry, done; /* mmscope_attach, mmscope_attach_done */
	char agent[PATH_MAX];
	int tried, declined;
	char why[160]; /* what the last declined thread was doing */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Is the connection at path up (a program answers it)? */
static bool answers(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;
	bool ok;

	if (strlen(path) >= sizeof(a.sun_path))
		return false;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Libraries whose code may hold a lock the agent's opening needs. */
static bool is_runtime(const char *path)
{
	static const char *const names[] = { "libc.so",	   "libc-",    "ld-linux",
					     "libpthread", "libdl.",   "libgcc_s",
					     "libasan",	   "libubsan", CLI_AGENT_NAME };
	const char *b = base_name(path);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(b, names[i], strlen(names[i])))
			return true;
	return false;
}

int cli_find_mapping(long pid, bool (*match)(const struct maps_line *, const void *),
		     const void *arg, struct maps_line *out)
{
	char maps[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%ld/maps", pid);
	if (!(f = fopen(maps, "re")))
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = maps_parse(line, out) && match(out, arg);
	fclose(f);
	return found ? 0 : -ENOENT;
}

static bool holds_pc(const struct maps_line *m, const void *pc)
{
	return *(const uint64_t *)pc >= m->lo && *(const uint64_t *)pc < m->hi;
}

static bool is_agent(const struct maps_line *m, const void *unused)
{
	(void)unused;
	return !strncmp(base_name(m->path), "libmmscope-agent", 16);
}

/* The agent in process pid: its path as mapped, and the two symbols. */
static int find_agent(struct attach *at, char *err, size_t errlen)
{
	static struct maps_line m;
	uint64_t base, entry, done;
	int r = cli_find_mapping(at->pid, is_agent, NULL, &m);

	if (r < 0) {
		if (r == -ENOENT)
			snprintf(err, errlen, "process %ld has no mmscope agent loaded", at->pid);
		else
			snprintf(err, errlen, "/proc/%ld/maps: %s", at->pid, strerror(-r));
		return -1;
	}
	snprintf(at->agent, sizeof(at->agent), "%s", m.path);
	if (cli_module_base(at->pid, at->agent, &base) < 0 ||
	    cli_elf_symbol(at->agent, "mmscope_attach", &entry) < 0 ||
	    cli_elf_symbol(at->agent, "mmscope_attach_done", &done) < 0) {
		snprintf(err, errlen,
			 "the agent of process %ld (%s) cannot open a connection later (an older "
			 "mmscope?); start the program with --gdb",
			 at->pid, at->agent);
		return -1;
	}
	at->entry = base + entry;
	at->done = base + done;
	return 0;
}

/* Blocking system calls inside which the C library holds no lock that
 * opening the connection takes (no memory management: malloc holds its
 * arena's lock around mmap, munmap, brk, madvise and mprotect). */
static bool blocking_ok(long nr)
{
	static const long ok[] = {
		0,   1,	  7,   16,  17,	 18,  19,  20,	23,  34,  35,  42,  43,	 44,
		45,  46,  47,  61,  65,	 69,  70,  73,	128, 130, 202, 220, 230, 232,
		243, 247, 270, 271, 281, 288, 295, 296, 299, 307, 327, 328, 426, 441,
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == nr)
			return true;
	return false;
}

/* Where a stopped thread stands: true if the call may be made there;
 * else false and why. */
/* Is the stopped thread tid at a place of a hot site's stub where it
 * holds nothing of mmscope's (util/hotstub.h)?  m: the anonymous code
 * mapping holding pc. */
static bool in_plain_stub(int tid, uint64_t pc, const struct maps_line *m)
{
	uint64_t slot = m->lo + ((pc - m->lo) & ~(uint64_t)(HOTSTUB_SLOT - 1));
	uint64_t words[3];

	for (int i = 0; i < 3; i++) {
		errno = 0;
		words[i] = (uint64_t)ptrace(PTRACE_PEEKDATA, tid, slot + 8 * i, 0);
		if (errno)
			return false;
	}
	return hotstub_is((const uint8_t *)words) && hotstub_plain((unsigned)(pc - slot));
}

static bool stands_well(struct attach *at, int tid, const struct user_regs_struct *r, char *why,
			size_t cap)
{
	static struct maps_line m;
	const char *path = m.path;
	long ax = (long)r->rax;
	/* a system call interrupted to restart: -ERESTARTSYS..-ERESTART_RESTARTBLOCK */
	bool blocked = (long)r->orig_rax >= 0 && ax <= -512 && ax >= -516;

	if (r->eflags & 0x100) {
		snprintf(why, cap, "single-stepping");
		return false;
	}
	if (cli_find_mapping(at->pid, holds_pc, &r->rip, &m) < 0 || m.perms[2] != 'x') {
		snprintf(why, cap, "at 0x%llx, outside any code", (unsigned long long)r->rip);
		return false;
	}
	if (!path[0] && in_plain_stub(tid, r->rip, &m))
		return true; /* as good as the program's own instruction */
	if (!path[0] || path[0] == '[' || !strcmp(path, at->agent)) {
		snprintf(why, cap, "in %.120s", !path[0] ? "generated code" : path);
		return false;
	}
	if (blocked) {
		if (blocking_ok((long)r->orig_rax))
			return true;
		snprintf(why, cap, "in system call %lld", (long long)r->orig_rax);
		return false;
	}
	if (is_runtime(path)) {
		snprintf(why, cap, "running in %.120s", base_name(path));
		return false;
	}
	return true;
}

/* Wait for tid to stop; pass on any signal that stops it on the way
 * unless it is the stop we want (want_trap: the int3 at done; else
 * ptrace's interrupt).  1 stopped, 0 the thread is gone, -1 timed out. */
static int wait_stop(struct attach *at, int tid, bool want_trap, long deadline)
{
	for (;;) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
		if (w < 0)
			return 0;
		if (w == 0) {
			if (now_ms() > deadline)
				return -1;
			nap_ms(1);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return 0;
		int sig = WSTOPSIG(st), event = st >> 16;
		if (event == PTRACE_EVENT_STOP) {
			if (!want_trap && sig == SIGTRAP)
				return 1;
			/* a group stop (SIGSTOP): stay stopped with the group? No:
			 * the call must end; the thread runs it and stops after */
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		if (want_trap && sig == SIGTRAP) {
			struct user_regs_struct r;
			if (ptrace(PTRACE_GETREGS, tid, 0, &r) == 0 && r.rip == at->done + 1)
				return 1;
		}
		ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig); /* the program's signal */
	}
}

/* Run the call on the stopped thread tid; its answer, or a ptrace error. */
static long call_attach(struct attach *at, int tid, const struct user_regs_struct *saved, char *err,
			size_t errlen)
{
	static uint8_t xstate[XSTATE_MAX] __attribute__((aligned(64)));
	struct iovec xv = { xstate, sizeof(xstate) };
	struct user_regs_struct r = *saved, back;
	bool have_x = ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &xv) == 0;
	struct user_fpregs_struct fp;
	bool have_fp = !have_x && ptrace(PTRACE_GETFPREGS, tid, 0, &fp) == 0;
	long result;

	/* below the red zone, 16-aligned, then the return address */
	r.rsp = ((saved->rsp - 256) & ~15ull) - 8;
	r.rip = at->entry;
	r.orig_rax = (unsigned long long)-1; /* no system call to restart now */
	r.rax = 0;
	r.eflags &= ~0x500ull; /* TF, DF */
	if (ptrace(PTRACE_POKEDATA, tid, (void *)r.rsp, (void *)at->done) < 0 ||
	    ptrace(PTRACE_SETREGS, tid, 0, &r) < 0 || ptrace(PTRACE_CONT, tid, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set up the call in thread %d: %s", tid,
			 strerror(errno));
		ptrace(PTRACE_SETREGS, tid, 0, saved);
		return -EIO;
	}
	int w = wait_stop(at, tid, true, now_ms() + CALL_FOR_MS);
	if (w == 0) {
		snprintf(err, errlen, "thread %d ended while opening the connection", tid);
		return -ESRCH;
	}
	if (w < 0) {
		/* stuck: put the thread back where it was; the agent's state
		 * may be half-made (agent.log says how far it got) */
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		wait_stop(at, tid, false, now_ms() + 1000);
		result = -ETIMEDOUT;
	} else {
		result = ptrace(PTRACE_GETREGS, tid, 0, &back) == 0 ? (long)back.rax : -EIO;
	}
	ptrace(PTRACE_SETREGS, tid, 0, saved);
	if (have_x) {
		xv.iov_base = xstate;
		ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &xv);
	} else if (have_fp) {
		ptrace(PTRACE_SETFPREGS, tid, 0, &fp);
	}
	if (result < 0)
		snprintf(err, errlen, "the program could not open its connection: %s%s",
			 strerror((int)-result),
			 result == -ETIMEDOUT ? " (it did not finish in 10 s; see agent.log)" : "");
	return result;
}

static bool is_agent_thread(long pid, int tid)
{
	char path[96], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%d/comm", pid, tid);
	if (!(f = fopen(path, "re")))
		return true; /* gone */
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "mmscope-", 8);
}

/* A mask from a "Name:\thex" line of status. */
static uint64_t status_mask(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	return p ? strtoull(p + strlen(name), NULL, 16) : 0;
}

/* Has thread tid a signal waiting that it will take (pending, not
 * blocked, not ignored)? */
static bool signal_waits(long pid, int tid)
{
	char path[96], status[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/task/%d/status", pid, tid);
	if (!(f = fopen(path, "re")))
		return true;
	n = fread(status, 1, sizeof(status) - 1, f);
	fclose(f);
	status[n] = 0;
	uint64_t pending = status_mask(status, "\nSigPnd:") | status_mask(status, "\nShdPnd:");
	return pending & ~status_mask(status, "\nSigBlk:") & ~status_mask(status, "\nSigIgn:");
}

/* One thread: 1 the connection is open, 0 not here (try another), -1
 * with err. */
static int try_thread(struct attach *at, int tid, char *err, size_t errlen)
{
	struct user_regs_struct r;
	int rc = 0;

	if (is_agent_thread(at->pid, tid))
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
		if (errno == ESRCH)
			return 0;
		snprintf(err, errlen,
			 "cannot stop a thread of process %ld to open its connection: %s (you "
			 "must be its user, or root, and no other debugger or tracer may be "
			 "attached)",
			 at->pid, strerror(errno));
		return -1;
	}
	at->tried++;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 ||
	    wait_stop(at, tid, false, now_ms() + 1000) <= 0 ||
	    ptrace(PTRACE_GETREGS, tid, 0, &r) < 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return 0;
	}
	if ((long)r.orig_rax >= 0 && (long)r.rax == -EINTR && !signal_waits(at->pid, tid)) {
		/* a few system calls (epoll_wait, sigtimedwait, semop) end
		 * with EINTR at ptrace's stop itself: nothing else woke it, so
		 * it runs again, as if the stop had never been */
		r.rip -= 2;
		r.rax = r.orig_rax;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
	}
	if (stands_well(at, tid, &r, at->why, sizeof(at->why))) {
		long res = call_attach(at, tid, &r, err, errlen);
		rc = res == 0 ? 1 : res == -EBUSY || res == -EAGAIN ? 0 : -1;
	} else {
		at->declined++;
	}
	ptrace(PTRACE_DETACH, tid, 0, 0);
	return rc;
}

int cli_attach_late(long pid, const char *out, char *spec, size_t cap, char *err, size_t errlen)
{
	struct attach at = { .pid = pid };
	char sock[PATH_MAX + 64], task[64];
	long deadline = now_ms() + TRY_FOR_MS, tracer;

	if ((size_t)snprintf(sock, sizeof(sock), "%s/gdb-%ld.sock", out, pid) >= sizeof(sock) ||
	    (size_t)snprintf(spec, cap, "unix:%s", sock) >= cap) {
		snprintf(err, errlen, "%s: path too long", out);
		return -1;
	}
	if (answers(sock))
		return 0; /* opened before */
	if ((tracer = cli_proc_status(pid, "TracerPid")) != 0) {
		if (tracer < 0)
			snprintf(err, errlen, "no process %ld (has it exited?)", pid);
		else
			snprintf(err, errlen,
				 "process %ld is being traced by process %ld (a debugger or "
				 "strace); mmscope cannot open its connection while it is",
				 pid, tracer);
		return -1;
	}
	if (find_agent(&at, err, errlen) < 0)
		return -1;
	snprintf(task, sizeof(task), "/proc/%ld/task", pid);
	while (now_ms() < deadline) {
		DIR *d = opendir(task);
		struct dirent *de;
		int rc = 0;
		if (!d) {
			snprintf(err, errlen, "no process %ld (has it exited?)", pid);
			return -1;
		}
		while (rc == 0 && (de = readdir(d))) {
			char *end;
			long tid = strtol(de->d_name, &end, 10);
			sigset_t all, saved;
			if (*end || tid <= 0)
				continue;
			/* ^C while a thread runs the call would leave it to
			 * trap at mmscope_attach_done with nobody to put its
			 * registers back: the signal waits until it is done */
			sigfillset(&all);
			sigprocmask(SIG_BLOCK, &all, &saved);
			rc = try_thread(&at, (int)tid, err, errlen);
			sigprocmask(SIG_SETMASK, &saved, NULL);
		}
		closedir(d);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
		nap_ms(1); /* a thread busy in mmscope (a hot site) is there most of the time: look often */
	}
	snprintf(err, errlen,
		 "no thread of process %ld stood where the connection can be opened safely in "
		 "%d s (%d looks, the last one %s: inside the C library or mmscope, a thread "
		 "may hold a lock opening it needs); try again, or start the program with --gdb",
		 pid, TRY_FOR_MS / 1000, at.tried, at.why[0] ? at.why : "not stoppable");
	return -1;
}
