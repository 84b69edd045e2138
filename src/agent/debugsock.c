/* SPDX-License-Identifier: MIT */
/*
 * The debugger connection: one agent thread listens on a UNIX or
 * loopback TCP socket, accepts a peer that could ptrace the program, and
 * serves the GDB remote protocol (src/debug/) in all-stop mode.
 *
 * A stop parks every program thread through park.c and holds them; their
 * registers are their signal contexts.  A thread that stops by itself (a
 * breakpoint, the end of a single step) publishes its context, holds
 * itself and wakes this thread through an eventfd.  This thread never
 * parks, blocks every signal, and while the program is stopped calls
 * nothing that could take a lock a parked thread holds: raw system calls
 * and static buffers only.
 */
#define LOG_DOMAIN "gdb"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ucontext.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/debugsock.h"
#include "agent/mem.h"
#include "agent/park.h"
#include "agent/real.h"
#include "debug/rsp.h"
#include "debug/target.h"
#include "mmscope/trace-format.h"
#include "util/log.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/sys.h"

enum { EV_SWBREAK = 1, EV_STEP, EV_ENTRY, EV_WATCH, EV_RWATCH, EV_AWATCH };

#define BP_MAX 1024
#define STEP_MAX 64
#define REMOVED_MAX 64

static struct {
	bool on;
	int listen_fd, client_fd, event_fd;
	int tid;
	char where[PATH_MAX + 8]; /* as the config says it, for messages */
	char path[PATH_MAX];	  /* the UNIX socket, "" for TCP */
	bool stopped;		  /* we hold the park */
	int reported;
	unsigned mem_flags;
	uint64_t entry; /* --gdb-wait: the entry point's breakpoint, 0 none */
	uint8_t entry_orig;
	struct dbg_session sess;
	struct rsp_parser parser;
	char reply[RSP_PACKET_MAX + 8];
	char framed[2 * RSP_PACKET_MAX + 16];
	struct x86_regctx ctx[PARK_MAX_THREADS];
	int exit_status; /* 0x100 | status: the program is in exit() */
	int exit_sent;	 /* the debugger was told */
} dbg = { .listen_fd = -1, .client_fd = -1, .event_fd = -1 };

static struct {
	uint64_t addr;
	uint8_t orig;
	bool used;
} bps[BP_MAX];

/* breakpoints removed a moment ago: a thread may have trapped on one
 * before it went (written by this thread, read in signal context) */
static uint64_t removed[REMOVED_MAX];
static unsigned nremoved;

/* threads the debugger single-steps */
static int stepping[STEP_MAX];

/* ---- signal context ---- */

static void notify(void)
{
	uint64_t one = 1;

	sys_write(dbg.event_fd, &one, 8);
}

static bool bp_at(uint64_t addr)
{
	for (int i = 0; i < BP_MAX; i++)
		if (__atomic_load_n(&bps[i].used, __ATOMIC_ACQUIRE) && bps[i].addr == addr)
			return true;
	return false;
}

static bool recently_removed(uint64_t addr)
{
	for (unsigned i = 0; i < REMOVED_MAX; i++)
		if (__atomic_load_n(&removed[i], __ATOMIC_ACQUIRE) == addr)
			return true;
	return false;
}

static bool take_stepping(int tid)
{
	for (int i = 0; i < STEP_MAX; i++) {
		int want = tid;
		if (__atomic_compare_exchange_n(&stepping[i], &want, 0, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

/* A debugger watch this thread hit in the access being completed: it
 * stops when the access is over (debug_after_fault), or its step stop
 * reports it (gdb stepping over a watched store wants the watch). */
static __thread struct {
	int ev;
	uint64_t addr;
} pending;

void debug_watch_hit(int type, uint64_t addr)
{
	if (!dbg.on || pending.ev)
		return; /* the first byte of the first hit is the one reported */
	pending.ev = type == MMS_WATCH_WRITE  ? EV_WATCH
		     : type == MMS_WATCH_READ ? EV_RWATCH
					      : EV_AWATCH;
	pending.addr = addr;
}

static void step_stop(ucontext_t *uc)
{
	int ev = pending.ev ? pending.ev : EV_STEP;

	pending.ev = 0;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
	park_stop_self(uc, ev, pending.addr, notify);
}

void debug_after_fault(void *ucv)
{
	if (!pending.ev)
		return;
	int ev = pending.ev;
	pending.ev = 0;
	if (dbg.on && dbg.client_fd >= 0)
		park_stop_self(ucv, ev, pending.addr, notify);
}

void debug_after_step(void *ucv)
{
	if (dbg.on && take_stepping((int)sys_gettid()))
		step_stop(ucv);
}

bool debug_on_trap(siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	int tid;

	if (!dbg.on)
		return false;
	if (si->si_code == SI_KERNEL) { /* int3 */
		uint64_t addr = pc - 1;
		if (addr == __atomic_load_n(&dbg.entry, __ATOMIC_ACQUIRE)) {
			mem_patch_text(addr, &dbg.entry_orig, 1);
			__atomic_store_n(&dbg.entry, 0, __ATOMIC_RELEASE);
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
			park_stop_self(uc, EV_ENTRY, addr, notify);
			return true;
		}
		if (bp_at(addr)) {
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
			park_stop_self(uc, EV_SWBREAK, addr, notify);
			return true;
		}
		if (recently_removed(addr)) {
			uint8_t b;
			if (mem_peek(addr, &b, 1) == 0 && b != 0xcc) {
				uc->uc_mcontext.gregs[REG_RIP] = (greg_t)addr;
				return true; /* run the original instruction */
			}
		}
		return false;
	}
	tid = (int)sys_gettid();
	if (__atomic_load_n(&mmscope_stepping_tid, __ATOMIC_ACQUIRE) == tid)
		return false; /* the slow path's own step */
	if ((si->si_code == TRAP_TRACE || si->si_code == TRAP_BRKPT) && take_stepping(tid)) {
		step_stop(uc);
		return true;
	}
	return false;
}

/* ---- the target, for src/debug/target.c ---- */

static struct park_slot *slot_of(int tid)
{
	struct park_slot *s = park_slots();

	for (int i = 0; i < PARK_MAX_THREADS; i++)
		if (s[i].tid == tid && s[i].uc)
			return &s[i];
	return NULL;
}

static int op_threads(void *arg, int *tids, int max)
{
	struct park_slot *s = park_slots();
	int n = 0;

	(void)arg;
	if (!dbg.stopped)
		return 0;
	if (dbg.reported && n < max)
		tids[n++] = dbg.reported;
	for (int i = 0; i < PARK_MAX_THREADS && n < max; i++)
		if (s[i].tid && s[i].uc && s[i].tid != dbg.reported)
			tids[n++] = s[i].tid;
	return n;
}

static int op_regs(void *arg, int tid, struct x86_regctx **c)
{
	struct park_slot *s = dbg.stopped ? slot_of(tid) : NULL;

	(void)arg;
	if (!s)
		return -ESRCH;
	*c = &dbg.ctx[s - park_slots()];
	return 0;
}

static long op_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	return mem_read(addr, buf, len, dbg.mem_flags);
}

static long op_write(void *arg, uint64_t addr, const void *buf, size_t len)
{
	(void)arg;
	return mem_write(addr, buf, len, dbg.mem_flags);
}

static void forget_removed(void)
{
	for (unsigned i = 0; i < REMOVED_MAX; i++)
		__atomic_store_n(&removed[i], 0, __ATOMIC_RELEASE);
}

static int bp_insert(uint64_t addr)
{
	static const uint8_t int3 = 0xcc;
	int free_i = -1, r;
	uint8_t orig;

	for (int i = 0; i < BP_MAX; i++) {
		if (bps[i].used && bps[i].addr == addr)
			return 0; /* gdb may insert twice */
		if (!bps[i].used && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return -ENOSPC;
	if ((r = mem_peek(addr, &orig, 1)) < 0)
		return r;
	if ((r = mem_patch_text(addr, &int3, 1)) < 0)
		return r;
	bps[free_i].addr = addr;
	bps[free_i].orig = orig;
	__atomic_store_n(&bps[free_i].used, true, __ATOMIC_RELEASE);
	return 0;
}

static int bp_remove_at(int i)
{
	int r = mem_patch_text(bps[i].addr, &bps[i].orig, 1);

	__atomic_store_n(&removed[nremoved++ % REMOVED_MAX], bps[i].addr, __ATOMIC_RELEASE);
	__atomic_store_n(&bps[i].used, false, __ATOMIC_RELEASE);
	return r;
}

static int bp_remove(uint64_t addr)
{
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used && bps[i].addr == addr)
			return bp_remove_at(i);
	return 0; /* gdb removes what a lost connection already removed */
}

static int op_bp(void *arg, bool insert, enum dbg_bp_type type, uint64_t addr, uint64_t len)
{
	(void)arg;
	if (type == DBG_WP_WRITE || type == DBG_WP_READ || type == DBG_WP_ACCESS) {
		int r = watch_debugger_set(insert,
					   type == DBG_WP_WRITE	 ? MMS_WATCH_WRITE
					   : type == DBG_WP_READ ? MMS_WATCH_READ
								 : MMS_WATCH_RW,
					   addr, len);
		/* gdb's own message names no reason: the log does */
		if (r < 0)
			pr_warn("cannot watch 0x%llx,%llu: %s", (unsigned long long)addr,
				(unsigned long long)len,
				r == -EPERM
					? "code or a thread's stack (pages cannot be closed there)"
				: r == -EINVAL ? "length 0 or over 256 bytes"
				: r == -EFAULT ? "not mapped"
				: r == -ENOSPC ? "every one of 256 debugger watches is in use"
					       : "the watch engine is off");
		return r;
	}
	if (type != DBG_BP_SW)
		return -EOPNOTSUPP; /* gdb steps instead, or says it cannot */
	if (len != 1)
		return -EINVAL;
	return insert ? bp_insert(addr) : bp_remove(addr);
}

/* Does [lo, hi) overlap the mapping a stopped thread's stack pointer is
 * in?  (watch.c will not close such a page: the fault's signal frame
 * would have to be written there.) */
bool debug_is_stack(uint64_t lo, uint64_t hi)
{
	static struct maps_reader mr;
	static struct maps_line m;
	struct park_slot *s = park_slots();
	bool hit = false;

	if (!dbg.stopped || maps_open(&mr) < 0)
		return false;
	while (!hit && maps_next(&mr, &m) > 0) {
		if (m.hi <= lo || m.lo >= hi)
			continue;
		for (int i = 0; i < PARK_MAX_THREADS && !hit; i++) {
			uint64_t sp = s[i].tid && s[i].uc
					      ? (uint64_t)s[i].uc->uc_mcontext.gregs[REG_RSP]
					      : 0;
			hit = sp >= m.lo && sp < m.hi;
		}
	}
	maps_close(&mr);
	return hit;
}

static long read_file(const char *rel, char *buf, size_t cap)
{
	long fd = proc_open(rel, O_RDONLY), n, got = 0;

	if (fd < 0)
		return fd;
	while ((size_t)got < cap && (n = sys_read((int)fd, buf + got, cap - (size_t)got)) > 0)
		got += n;
	sys_close((int)fd);
	return got;
}

static long op_object(void *arg, const char *name, char *buf, size_t cap)
{
	(void)arg;
	if (!strcmp(name, "auxv"))
		return read_file("self/auxv", buf, cap);
	return proc_readlink("self/exe", buf, cap);
}

static long op_thread_name(void *arg, int tid, char *out, size_t cap)
{
	char rel[64];
	long n;

	(void)arg;
	snprintf(rel, sizeof(rel), "self/task/%d/comm", tid);
	n = read_file(rel, out, cap);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == 0))
		n--;
	return n < 0 ? 0 : n;
}

static long op_monitor(void *arg, const char *cmd, char *out, size_t cap)
{
	(void)arg;
	if (!strcmp(cmd, "help"))
		return snprintf(
			out, cap,
			"mmscope monitor commands:\n"
			"  help                     this text\n"
			"  regions                  the mappings mmscope traces or watches\n"
			"  device-reads live|shadow whether reads of a device mapping are "
			"real\n");
	if (!strcmp(cmd, "device-reads live") || !strcmp(cmd, "device-reads shadow")) {
		bool live = cmd[13] == 'l';
		dbg.mem_flags = live ? dbg.mem_flags | MEM_DEVICE_LIVE
				     : dbg.mem_flags & ~(unsigned)MEM_DEVICE_LIVE;
		return snprintf(out, cap, "device reads: %s\n",
				live ? "live (each read reaches the device)"
				     : "not made (answered with an error until the shadow "
				       "register file exists)");
	}
	if (!strcmp(cmd, "device-reads"))
		return snprintf(out, cap, "device reads: %s\n",
				dbg.mem_flags & MEM_DEVICE_LIVE ? "live" : "shadow");
	if (!strcmp(cmd, "regions")) {
		struct region r[64];
		uint64_t from = 0;
		long o = 0;
		int n;
		o += snprintf(out + o, cap - (size_t)o,
			      "id  start              end                "
			      "prot kind\n");
		if ((size_t)o + 100 >= cap)
			return 0;
		while ((n = region_overlaps(&agent.regions, from, UINT64_MAX, r, 64)) > 0) {
			/* a line is under 100 bytes: each one fits whole */
			for (int i = 0; i < n && (size_t)o + 100 < cap; i++)
				o += snprintf(out + o, cap - (size_t)o,
					      "r%-2u 0x%016llx 0x%016llx %c%c%c  %s%s%s\n", r[i].id,
					      (unsigned long long)r[i].start,
					      (unsigned long long)r[i].end,
					      r[i].prot & 1 ? 'r' : '-', r[i].prot & 2 ? 'w' : '-',
					      r[i].prot & 4 ? 'x' : '-',
					      r[i].flags & REGION_TRACE ? "traced" : "",
					      r[i].flags & REGION_DEVICE ? " device" : "",
					      r[i].flags & REGION_WATCH ? " watched" : "");
			from = r[n - 1].end;
			if (n < 64)
				break;
		}
		return o;
	}
	return snprintf(out, cap, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
}

/* Let the threads go as r says; the stop that ends this comes later. */
static void resume(const struct dbg_resume *r)
{
	struct park_slot *s = park_slots();
	static struct park_slot *runs[PARK_MAX_THREADS];
	static int sigs[PARK_MAX_THREADS], sig_tids[PARK_MAX_THREADS];
	int nrun = 0, nsig = 0;

	forget_removed();
	for (int i = 0; i < PARK_MAX_THREADS; i++) {
		int tid = s[i].tid;
		enum dbg_act act = DBG_ACT_STOP;
		int sig = 0;
		if (!tid || !s[i].uc)
			continue;
		for (int k = 0; r && k < r->n; k++)
			if (r->a[k].tid == tid || r->a[k].tid == -1) {
				act = r->a[k].act;
				sig = r->a[k].sig;
				break;
			}
		if (!r)
			act = DBG_ACT_CONTINUE;
		struct x86_regctx *c = &dbg.ctx[i];
		s[i].fs_base = c->fs_base;
		s[i].gs_base = c->gs_base;
		s[i].fs_base_set = c->fs_base_set;
		s[i].gs_base_set = c->gs_base_set;
		if (act == DBG_ACT_STOP)
			continue;
		if (act == DBG_ACT_STEP) {
			for (int k = 0; k < STEP_MAX; k++) {
				int none = 0;
				if (__atomic_compare_exchange_n(&stepping[k], &none, tid, false,
								__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
					break;
			}
			s[i].uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
		}
		if (sig) {
			sigs[nsig] = sig;
			sig_tids[nsig++] = tid;
		}
		s[i].event = 0;
		__atomic_store_n(&s[i].hold, 0, __ATOMIC_RELEASE);
		runs[nrun++] = &s[i];
	}
	dbg.stopped = false;
	dbg.reported = 0;
	park_end();
	for (int i = 0; i < nrun; i++)
		park_unhold(runs[i]);
	for (int i = 0; i < nsig; i++)
		sys_tgkill(agent.pid, sig_tids[i], sigs[i]);
}

static int op_resume(void *arg, const struct dbg_resume *r)
{
	(void)arg;
	if (!dbg.stopped)
		return -EBUSY;
	resume(r);
	return 0;
}

static void remove_all_bps(void)
{
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used)
			bp_remove_at(i);
	watch_debugger_clear();
	for (int i = 0; i < STEP_MAX; i++)
		__atomic_store_n(&stepping[i], 0, __ATOMIC_RELEASE);
}

static void op_detach(void *arg)
{
	(void)arg;
	remove_all_bps();
	if (dbg.stopped)
		resume(NULL);
}

static void op_kill(void *arg)
{
	(void)arg;
	sys_call2(SYS_kill, agent.pid, SIGKILL);
}

static const struct dbg_ops ops = {
	.threads = op_threads,
	.regs = op_regs,
	.read = op_read,
	.write = op_write,
	.resume = op_resume,
	.bp = op_bp,
	.object = op_object,
	.monitor = op_monitor,
	.thread_name = op_thread_name,
	.detach = op_detach,
	.kill = op_kill,
};

/* ---- stopping ---- */

/*
 * Park and hold every thread; the stop to report: a thread that stopped
 * itself if there is one (others that hit a breakpoint meanwhile stand at
 * it again and hit it again when they run), else sig in the first
 * thread.  false when woken by an event that has already been reported.
 */
static bool stop_all(int sig, bool from_event, struct dbg_stop *st)
{
	struct park_slot *s = park_slots();
	struct park_slot *ev = NULL, *main_slot = NULL, *first = NULL;
	uint64_t drain;

	park_begin_debug(dbg.tid);
	dbg.stopped = true;
	sys_read(dbg.event_fd, &drain, 8); /* every event is looked at now */
	for (int i = 0; i < PARK_MAX_THREADS; i++) {
		if (!s[i].tid || !s[i].uc)
			continue;
		dbg.ctx[i] = (struct x86_regctx){ .uc = s[i].uc,
						  .fs_base = s[i].fs_base,
						  .gs_base = s[i].gs_base,
						  /* mmscope's handler rewrites it */
						  .readonly = s[i].in_handler };
		if (!first)
			first = &s[i];
		if (s[i].tid == agent.pid)
			main_slot = &s[i];
		if (s[i].event && (!ev || s[i].event == EV_STEP))
			ev = &s[i];
	}
	if (from_event && !ev) {
		resume(NULL);
		return false;
	}
	struct park_slot *who = ev ? ev : main_slot ? main_slot : first;
	*st = (struct dbg_stop){ .why = DBG_STOP_SIGNAL, .sig = sig, .tid = who ? who->tid : 0 };
	if (ev) {
		st->sig = SIGTRAP;
		st->why = ev->event == EV_SWBREAK  ? DBG_STOP_SWBREAK
			  : ev->event == EV_WATCH  ? DBG_STOP_WATCH
			  : ev->event == EV_RWATCH ? DBG_STOP_RWATCH
			  : ev->event == EV_AWATCH ? DBG_STOP_AWATCH
						   : DBG_STOP_SIGNAL;
		st->addr = ev->event_addr;
	}
	for (int i = 0; i < PARK_MAX_THREADS; i++)
		s[i].event = 0;
	dbg.reported = st->tid;
	return true;
}

/* ---- the connection ---- */

static int send_all(const char *p, size_t n)
{
	while (n) {
		long w = sys_call6(SYS_sendto, dbg.client_fd, (long)p, (long)n, MSG_NOSIGNAL, 0, 0);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (int)w : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_packet(const char *payload, size_t len)
{
	long n = rsp_frame(dbg.framed, sizeof(dbg.framed), payload, len);

	return n < 0 ? (int)n : send_all(dbg.framed, (size_t)n);
}

static void send_stop(const struct dbg_stop *st)
{
	size_t n = dbg_stop_reply(&dbg.sess, st, dbg.reply, sizeof(dbg.reply));

	send_packet(dbg.reply, n);
}

static void session_close(const char *why)
{
	pr_info("debugger connection closed (%s); the program runs on", why);
	remove_all_bps();
	if (dbg.stopped)
		resume(NULL);
	sys_close(dbg.client_fd);
	dbg.client_fd = -1;
}

/* Could the peer ptrace us?  Same real, effective and saved ids and a
 * dumpable process (ptrace's own rule, Documentation/admin-guide/LSM/
 * Yama.rst aside), or CAP_SYS_PTRACE.  0, or -EPERM with why. */
static int peer_allowed(int uid, int gid, int pid, char *why, size_t cap)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	char rel[64], status[4096];
	long n;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	if ((uid_t)uid == ru && (uid_t)uid == eu && (uid_t)uid == su && (gid_t)gid == rg &&
	    (gid_t)gid == eg && (gid_t)gid == sg && prctl(PR_GET_DUMPABLE) == 1)
		return 0;
	if (pid > 0) {
		snprintf(rel, sizeof(rel), "%d/status", pid);
		n = read_file(rel, status, sizeof(status) - 1);
		status[n > 0 ? n : 0] = 0;
		char *cap_eff = strstr(status, "CapEff:");
		if (cap_eff && (strtoull(cap_eff + 7, NULL, 16) >> 19) & 1) /* CAP_SYS_PTRACE */
			return 0;
	}
	snprintf(why, cap,
		 "mmscope: uid %d may not debug process %d (running as uid %u%s); a debugger "
		 "must be allowed to ptrace it",
		 uid, agent.pid, (unsigned)eu, prctl(PR_GET_DUMPABLE) == 1 ? "" : ", not dumpable");
	return -EPERM;
}

/* The uid owning a TCP connection from the peer's side: /proc/net/tcp's
 * line whose local end is the peer's address (loopback peers only). */
static int tcp_peer_uid(const struct sockaddr_in *peer, int *uid)
{
	static char buf[1 << 16];
	long n = read_file("net/tcp", buf, sizeof(buf) - 1);
	char want[32];

	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	/* addresses are the kernel's __be32 printed as a host-order number */
	snprintf(want, sizeof(want), "%08X:%04X", peer->sin_addr.s_addr, ntohs(peer->sin_port));
	for (char *line = strchr(buf, '\n'); line; line = strchr(line + 1, '\n')) {
		char local[32];
		int u;
		if (sscanf(line + 1, "%*d: %31s %*s %*x %*s %*s %*s %d", local, &u) == 2 &&
		    !strcmp(local, want)) {
			*uid = u;
			return 0;
		}
	}
	return -ENOENT;
}

static void refuse(const char *why)
{
	/* gdb shows the reply to its first packet: say why there */
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "E.%s", why);

	pr_warn("refused a debugger: %s", why + 9);
	/* answer its first packet (gdb's qSupported), at most 2 s away */
	rsp_parser_init(&dbg.parser);
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { .fd = dbg.client_fd, .events = POLLIN };
		uint8_t b[512];
		long got;
		if (sys_call3(SYS_poll, (long)&p, 1, 100) <= 0)
			continue;
		if ((got = sys_read(dbg.client_fd, b, sizeof(b))) <= 0)
			break;
		bool packet = false;
		for (long i = 0; i < got && !packet; i++)
			packet = rsp_feed(&dbg.parser, b[i]) == RSP_PACKET;
		if (packet) {
			send_all("+", 1);
			break;
		}
	}
	send_packet(msg, (size_t)n);
	sys_call2(SYS_shutdown, dbg.client_fd, SHUT_RDWR);
	sys_close(dbg.client_fd);
	dbg.client_fd = -1;
}

static void accept_one(void)
{
	char why[256];
	int uid = -1, gid = -1, pid = 0;
	long fd = sys_call4(SYS_accept4, dbg.listen_fd, 0, 0, SOCK_CLOEXEC);
	struct dbg_stop st;

	if (fd < 0)
		return;
	dbg.client_fd = agent_high_fd((int)fd);
	if (dbg.path[0]) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (getsockopt(dbg.client_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
			uid = (int)cr.uid;
			gid = (int)cr.gid;
			pid = cr.pid;
		}
	} else {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int one = 1;
		setsockopt(dbg.client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (getpeername(dbg.client_fd, (struct sockaddr *)&peer, &len) == 0 &&
		    tcp_peer_uid(&peer, &uid) == 0)
			gid = -2; /* TCP says no group: the uid must do */
	}
	if (uid < 0) {
		refuse("mmscope: cannot tell who the peer is; refused");
		return;
	}
	if (gid == -2) {
		uid_t ru, eu, su;
		getresuid(&ru, &eu, &su);
		gid = (uid_t)uid == eu ? (int)getegid() : -1;
	}
	if (peer_allowed(uid, gid, pid, why, sizeof(why)) < 0) {
		refuse(why);
		return;
	}
	pr_info("debugger connected (uid %d%s%d)", uid, pid ? ", pid " : "", pid);
	rsp_parser_init(&dbg.parser);
	dbg_session_init(&dbg.sess, &ops, NULL, agent.pid);
	dbg.sess.avx = false;
	if (!dbg.stopped && stop_all(SIGTRAP, false, &st)) {
		dbg.sess.last = st;
		struct park_slot *s = slot_of(st.tid);
		dbg.sess.avx = s && x86_has_avx(s->uc);
	}
}

static void handle_packet(void)
{
	size_t n;
	enum dbg_result r;

	if (!dbg.sess.no_ack && send_all("+", 1) < 0)
		return;
	r = dbg_handle(&dbg.sess, dbg.parser.buf, dbg.parser.len, dbg.reply, sizeof(dbg.reply), &n);
	if (r == DBG_RESUMED)
		return;
	if (r == DBG_KILLED) {
		if (n)
			send_packet(dbg.reply, n);
		return; /* SIGKILL is on its way */
	}
	send_packet(dbg.reply, n);
	if (r == DBG_DETACHED)
		session_close("detached");
}

static void on_client_bytes(void)
{
	static uint8_t buf[4096];
	long n = sys_read(dbg.client_fd, buf, sizeof(buf));
	struct dbg_stop st;

	if (n == -EINTR || n == -EAGAIN)
		return;
	if (n <= 0) {
		session_close(n == 0 ? "the debugger went away" : "read error");
		return;
	}
	for (long i = 0; i < n && dbg.client_fd >= 0; i++) {
		switch (rsp_feed(&dbg.parser, buf[i])) {
		case RSP_PACKET:
			handle_packet();
			break;
		case RSP_BAD_CHECKSUM:
		case RSP_OVERSIZE:
			send_all("-", 1);
			break;
		case RSP_INTERRUPT:
			if (!dbg.stopped && stop_all(SIGINT, false, &st))
				send_stop(&st);
			break;
		default:
			break;
		}
	}
}

/* exit(status) with a debugger connected: it gets W before the
 * connection goes (on_exit runs after the program's own atexit handlers).
 * Waits at most two seconds for the debugger's thread.  _exit() and a
 * fatal signal end the connection without a W. */
static void on_program_exit(int status, void *unused)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	(void)unused;
	if (!dbg.on || __atomic_load_n(&dbg.client_fd, __ATOMIC_ACQUIRE) < 0)
		return;
	__atomic_store_n(&dbg.exit_status, 0x100 | (status & 0xff), __ATOMIC_RELEASE);
	notify();
	for (int i = 0; i < 200 && !__atomic_load_n(&dbg.exit_sent, __ATOMIC_ACQUIRE); i++)
		sys_call2(SYS_nanosleep, (long)&ts, 0);
}

/* The program is exiting: say so and close (the debugger's thread). */
static bool exit_reported(void)
{
	int status = __atomic_load_n(&dbg.exit_status, __ATOMIC_ACQUIRE);
	uint64_t drain;

	if (!status)
		return false;
	sys_read(dbg.event_fd, &drain, 8);
	struct dbg_stop st = { .why = DBG_STOP_EXITED, .status = status & 0xff };
	send_stop(&st);
	session_close("the program exited");
	__atomic_store_n(&dbg.exit_sent, 1, __ATOMIC_RELEASE);
	return true;
}

static void *serve(void *unused)
{
	sigset_t all;

	(void)unused;
	sigfillset(&all);
	sys_rt_sigprocmask(SIG_SETMASK, &all, NULL);
	dbg.tid = (int)sys_gettid();
	park_exempt(dbg.tid);
	prctl(PR_SET_NAME, "mmscope-gdb");
	for (;;) {
		struct pollfd p[2];
		int np = 0;
		if (dbg.client_fd < 0) {
			p[np++] = (struct pollfd){ .fd = dbg.listen_fd, .events = POLLIN };
		} else {
			p[np++] = (struct pollfd){ .fd = dbg.client_fd, .events = POLLIN };
			if (!dbg.stopped)
				p[np++] = (struct pollfd){ .fd = dbg.event_fd, .events = POLLIN };
		}
		long r = sys_call3(SYS_poll, (long)p, np, -1);
		if (r < 0)
			continue;
		if (dbg.client_fd < 0) {
			if (p[0].revents & POLLIN)
				accept_one();
			continue;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			on_client_bytes();
		if (np == 2 && (p[1].revents & POLLIN) && dbg.client_fd >= 0 && !dbg.stopped) {
			struct dbg_stop st;
			if (exit_reported())
				continue;
			if (stop_all(SIGTRAP, true, &st))
				send_stop(&st);
		}
	}
	return NULL;
}

/* ---- setting up ---- */

static int listen_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE) {
		/* left by an earlier image of this process (exec) or a run
		 * that died: take it over only if nobody answers there and it
		 * is a socket of ours */
		struct stat st;
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool stale = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) < 0 &&
			     errno == ECONNREFUSED;
		if (probe >= 0)
			close(probe);
		if (stale && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_uid == geteuid() && unlink(path) == 0 &&
		    bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			goto bound;
		errno = EADDRINUSE;
		goto fail;
	} else if (errno && access(path, F_OK) != 0) {
		goto fail;
	}
bound:
	if (chmod(path, 0600) < 0 || listen(fd, 4) < 0)
		goto fail;
	return fd;
fail : {
	int e = errno;
	close(fd);
	return -e;
}
}

static int listen_tcp(const char *spec)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	long port;
	char *end;
	int fd, one = 1;

	if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = 0;
		spec = colon + 1;
	}
	port = strtol(spec, &end, 10);
	if (!*spec || *end || port < 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -EINVAL;
	if ((ntohl(a.sin_addr.s_addr) >> 24) != 127)
		return -EADDRNOTAVAIL; /* loopback only: see docs/debugging.md */
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

void debug_start(void)
{
	const char *spec = agent.cfg.gdb;
	pthread_t th;
	pthread_attr_t attr;
	int fd;

	if (!spec[0])
		return;
	snprintf(dbg.where, sizeof(dbg.where), "%s", spec);
	if (!strncmp(spec, "unix:", 5)) {
		size_t n = strlen(spec + 5);
		memcpy(dbg.path, spec + 5, n < sizeof(dbg.path) ? n + 1 : 0);
		fd = n < sizeof(dbg.path) ? listen_unix(dbg.path) : -ENAMETOOLONG;
	} else if (!strncmp(spec, "tcp:", 4)) {
		fd = listen_tcp(spec + 4);
	} else {
		fd = -EINVAL;
	}
	if (fd < 0) {
		pr_err("cannot listen for a debugger on %s: %s; no debugger connection", spec,
		       strerror(-fd));
		dprintf(2, "mmscope-agent: cannot listen for a debugger on %s: %s\n", spec,
			strerror(-fd));
		return;
	}
	dbg.listen_fd = agent_high_fd(fd);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		pr_err("eventfd: %s; no debugger connection", strerror(errno));
		return;
	}
	dbg.event_fd = agent_high_fd(fd);
	dbg.mem_flags = agent.cfg.device_reads_live ? MEM_DEVICE_LIVE : 0;
	dbg.on = true;
	if (agent.cfg.gdb_wait) {
		static const uint8_t int3 = 0xcc;
		uint64_t entry = getauxval(AT_ENTRY);
		if (entry && mem_peek(entry, &dbg.entry_orig, 1) == 0 &&
		    mem_patch_text(entry, &int3, 1) == 0)
			__atomic_store_n(&dbg.entry, entry, __ATOMIC_RELEASE);
		else
			pr_warn("cannot stop at the entry point: the program runs");
	}
	on_exit(on_program_exit, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (real_get()->pthread_create(&th, &attr, serve, NULL) != 0) {
		pr_err("cannot start the debugger thread; no debugger connection");
		dbg.on = false;
	}
	pthread_attr_destroy(&attr);
	pr_info("debugger connection: listening on %s%s", spec,
		dbg.entry ? " (stopped at the entry point until a debugger connects)" : "");
}

void debug_after_fork(void)
{
	if (!dbg.on)
		return;
	/* the child is not debugged: its copy of the text loses our int3s */
	for (int i = 0; i < BP_MAX; i++)
		if (bps[i].used) {
			mem_patch_text(bps[i].addr, &bps[i].orig, 1);
			bps[i].used = false;
		}
	for (int i = 0; i < STEP_MAX; i++)
		stepping[i] = 0;
	if (dbg.entry) {
		mem_patch_text(dbg.entry, &dbg.entry_orig, 1);
		dbg.entry = 0;
	}
	if (dbg.listen_fd >= 0)
		sys_close(dbg.listen_fd);
	if (dbg.client_fd >= 0)
		sys_close(dbg.client_fd);
	dbg.listen_fd = dbg.client_fd = -1;
	dbg.on = false;
}
