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
#include "agent/hot.h"
#include "agent/debugstate.h"
#include "agent/mem.h"
#include "agent/park.h"
#include "agent/real.h"
#include "agent/record.h"
#include "debug/rsp.h"
#include "debug/target.h"
#include "mmscope/trace-format.h"
#include "util/log.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/sockpath.h"
#include "util/sys.h"

struct debug_state dbg = { .listen_fd = -1, .client_fd = -1, .event_fd = -1 };

/* ---- the connection ---- */

int debug_send(int fd, const char *p, size_t n)
{
	while (n) {
		long w = sys_call6(SYS_sendto, fd, (long)p, (long)n, MSG_NOSIGNAL, 0, 0);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (int)w : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_all(const char *p, size_t n)
{
	return debug_send(dbg.client_fd, p, n);
}

static int send_packet_fd(int fd, const char *payload, size_t len)
{
	long n = rsp_frame(dbg.framed, sizeof(dbg.framed), payload, len);

	return n < 0 ? (int)n : debug_send(fd, dbg.framed, (size_t)n);
}

static int send_packet(const char *payload, size_t len)
{
	return send_packet_fd(dbg.client_fd, payload, len);
}

static void send_stop(const struct dbg_stop *st)
{
	size_t n = dbg_stop_reply(&dbg.sess, st, dbg.reply, sizeof(dbg.reply));

	send_packet(dbg.reply, n);
}

static void session_close(const char *why)
{
	int fd = dbg.client_fd;

	pr_info("debugger connection closed (%s); the program runs on", why);
	hot_thaw(HOT_FOR_DEBUGGER);
	/* gone before a thread runs: none stops for a debugger from now on
	 * (one that decided a moment ago is let go by release_stray) */
	__atomic_store_n(&dbg.client_fd, -1, __ATOMIC_RELEASE);
	debug_remove_all();
	if (dbg.stopped)
		debug_resume(NULL);
	sys_close(fd);
}

/* A thread stopped itself for a debugger that has just gone (it saw the
 * connection open, then parked): let everything run on, the signal it
 * stopped for handed on as without a debugger. */
static void release_stray(void)
{
	struct dbg_stop st;

	if (debug_stop_all(SIGTRAP, true, &st))
		debug_resume(NULL);
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
		n = proc_read(rel, status, sizeof(status) - 1);
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
	long n = proc_read("net/tcp", buf, sizeof(buf) - 1);
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

/* A peer that may not connect: tell it why (gdb shows the reply to its
 * first packet, qSupported, at most 2 s away) and close.  A ctl client
 * sends a line, not a packet: it gets the same E. packet, which
 * `mmscope ctl` prints. */
static void refuse(int fd, const char *why)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "E.%s", why);
	struct rsp_parser parser;

	pr_warn("refused a debugger: %s", why + 9);
	rsp_parser_init(&parser);
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t b[512];
		long got;
		if (sys_call3(SYS_poll, (long)&p, 1, 100) <= 0)
			continue;
		if ((got = sys_read(fd, b, sizeof(b))) <= 0)
			break;
		bool packet = false, line = false;
		for (long i = 0; i < got && !packet; i++) {
			packet = rsp_feed(&parser, b[i]) == RSP_PACKET;
			line |= b[i] == '\n';
		}
		if (packet)
			debug_send(fd, "+", 1);
		if (packet || line)
			break;
	}
	send_packet_fd(fd, msg, (size_t)n);
	sys_call2(SYS_shutdown, fd, SHUT_RDWR);
	sys_close(fd);
}

/* connections accepted whose protocol is not known yet: the first byte
 * of gdb's is '+', '$' or ^C; anything else is a ctl session's */
#define PENDING_MAX 8
#define PEER_NETWORK INT_MAX /* the uid of a peer from another machine */
static struct {
	int fd; /* -1 free */
	int uid, pid;
} pending[PENDING_MAX] = { [0 ... PENDING_MAX - 1] = { .fd = -1 } };

static void accept_one(void)
{
	char why[256];
	int uid = -1, gid = -1, pid = 0, slot = -1;
	long lfd = sys_call4(SYS_accept4, dbg.listen_fd, 0, 0, SOCK_CLOEXEC);
	int fd;

	if (lfd < 0)
		return;
	fd = agent_high_fd((int)lfd);
	if (dbg.path[0]) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
			uid = (int)cr.uid;
			gid = (int)cr.gid;
			pid = cr.pid;
		}
	} else {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
			peer.sin_family = 0;
		else if (tcp_peer_uid(&peer, &uid) == 0)
			gid = -2; /* TCP says no group: the uid must do */
		else if (agent.cfg.gdb_open && peer.sin_family == AF_INET) {
			/* not a connection of this machine's: from the network,
			 * which --gdb-bind let in */
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
			pr_warn("accepted a debugger from %s:%d on the network (--gdb-bind: "
				"nobody to check)",
				a, ntohs(peer.sin_port));
			uid = PEER_NETWORK;
		}
	}
	if (uid < 0) {
		refuse(fd, "mmscope: cannot tell who the peer is; refused");
		return;
	}
	if (gid == -2) {
		uid_t ru, eu, su;
		getresuid(&ru, &eu, &su);
		gid = (uid_t)uid == eu ? (int)getegid() : -1;
	}
	if (uid != PEER_NETWORK && peer_allowed(uid, gid, pid, why, sizeof(why)) < 0) {
		refuse(fd, why);
		return;
	}
	for (int i = 0; i < PENDING_MAX && slot < 0; i++)
		if (pending[i].fd < 0)
			slot = i;
	if (slot < 0) {
		refuse(fd, "mmscope: too many connections at once; try again");
		return;
	}
	pending[slot].fd = fd;
	pending[slot].uid = uid;
	pending[slot].pid = pid;
}

static void feed(const uint8_t *buf, long n);

/* The first bytes of a connection are gdb's: it becomes the debugger
 * session (one at a time), and the program stops for it. */
static void gdb_begin(int fd, int uid, int pid, const uint8_t *bytes, long n)
{
	struct dbg_stop st;

	dbg.client_fd = fd;
	dbg.was_connected = true;
	signals_borrow(~0ull); /* stops for every signal from now on */
	if (uid == PEER_NETWORK)
		pr_info("debugger connected (from the network)");
	else
		pr_info("debugger connected (uid %d%s%d)", uid, pid ? ", pid " : "", pid);
	/* the debugger sees and sets breakpoints in the program's own text,
	 * and steps its own instructions */
	int unpatched = hot_unpatch_all(HOT_FOR_DEBUGGER);
	if (unpatched > 0)
		pr_info("%d hot sites unpatched while a debugger is connected", unpatched);
	rsp_parser_init(&dbg.parser);
	dbg_session_init(&dbg.sess, &debug_target_ops, NULL, agent.pid);
	dbg.sess.avx = false;
	if (!dbg.stopped && debug_stop_all(SIGTRAP, false, &st)) {
		dbg.sess.last = st;
		struct park_slot *s = debug_slot_of(st.tid);
		dbg.sess.avx = s && x86_has_avx(s->uc);
	}
	feed(bytes, n);
}

static void on_pending(int i)
{
	static uint8_t buf[4096];
	int fd = pending[i].fd;
	long n = sys_read(fd, buf, sizeof(buf));

	if (n == -EINTR || n == -EAGAIN)
		return;
	pending[i].fd = -1;
	if (n <= 0) {
		sys_close(fd);
		return;
	}
	if (buf[0] == '+' || buf[0] == '$' || buf[0] == 3) {
		if (dbg.client_fd < 0) {
			gdb_begin(fd, pending[i].uid, pending[i].pid, buf, n);
			return;
		}
		debug_send(fd, "+", 1);
		send_packet_fd(fd, "E.mmscope: another debugger is connected to this program", 57);
		pr_warn("refused a second debugger (uid %d): one is connected", pending[i].uid);
		sys_close(fd);
		return;
	}
	if (ctl_add(fd, buf, (size_t)n) < 0) {
		static const char full[] =
			"{\"ok\":false,\"error\":\"too many ctl sessions at once\"}\n";
		debug_send(fd, full, sizeof(full) - 1);
		sys_close(fd);
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

static void feed(const uint8_t *buf, long n)
{
	struct dbg_stop st;

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
			if (!dbg.stopped && debug_stop_all(SIGINT, false, &st))
				send_stop(&st);
			break;
		default:
			break;
		}
	}
}

static void on_client_bytes(void)
{
	static uint8_t buf[4096];
	long n = sys_read(dbg.client_fd, buf, sizeof(buf));

	if (n == -EINTR || n == -EAGAIN)
		return;
	if (n <= 0) {
		session_close(n == 0 ? "the debugger went away" : "read error");
		return;
	}
	feed(buf, n);
}

bool debug_hold(struct dbg_stop *st)
{
	if (dbg.stopped)
		return false;
	/* sig 0: a stop of nobody's; an event found meanwhile is gdb's */
	debug_stop_all(0, false, st);
	return true;
}

void debug_release(bool held, const struct dbg_stop *st)
{
	if (!held)
		return;
	if (st->sig && dbg.client_fd >= 0)
		send_stop(st); /* a thread stopped for gdb meanwhile: it is told */
	else
		debug_resume(NULL);
}

static void remove_socket(void);

/* exit(status) with a debugger connected: it gets W before the
 * connection goes (on_exit runs after the program's own atexit handlers).
 * Waits at most two seconds for the debugger's thread.  _exit() and a
 * fatal signal end the connection without a W. */
static void on_program_exit(int status, void *unused)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	(void)unused;
	if (!dbg.on)
		return;
	remove_socket();
	if (__atomic_load_n(&dbg.client_fd, __ATOMIC_ACQUIRE) < 0)
		return;
	__atomic_store_n(&dbg.exit_status, 0x100 | (status & 0xff), __ATOMIC_RELEASE);
	debug_notify();
	for (int i = 0; i < 200 && !__atomic_load_n(&dbg.exit_sent, __ATOMIC_ACQUIRE); i++)
		sys_call2(SYS_nanosleep, (long)&ts, 0);
}

/* signal context: the program is about to die of sig (its default
 * action): the debugger gets X first, within two seconds. */
void debug_program_dies(int sig)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (!dbg.on || __atomic_load_n(&dbg.client_fd, __ATOMIC_ACQUIRE) < 0)
		return;
	__atomic_store_n(&dbg.exit_status, 0x200 | (sig & 0xff), __ATOMIC_RELEASE);
	debug_notify();
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
	struct dbg_stop st = { .why = status & 0x200 ? DBG_STOP_KILLED : DBG_STOP_EXITED,
			       .status = status & 0xff,
			       .sig = status & 0xff };
	send_stop(&st);
	session_close(status & 0x200 ? "the program was killed by a signal" : "the program exited");
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
		struct pollfd p[3 + PENDING_MAX + CTL_MAX];
		int np = 0, i_client = -1, i_event = -1, i_pending = 0, n_pending = 0, i_ctl;
		p[np++] = (struct pollfd){ .fd = dbg.listen_fd, .events = POLLIN };
		if (dbg.client_fd >= 0) {
			i_client = np;
			p[np++] = (struct pollfd){ .fd = dbg.client_fd, .events = POLLIN };
		}
		/* (the stop at the entry point waits for the first one) */
		if (!dbg.stopped && (dbg.client_fd >= 0 || dbg.was_connected)) {
			i_event = np;
			p[np++] = (struct pollfd){ .fd = dbg.event_fd, .events = POLLIN };
		}
		i_pending = np;
		for (int i = 0; i < PENDING_MAX; i++)
			if (pending[i].fd >= 0) {
				p[np++] = (struct pollfd){ .fd = pending[i].fd, .events = POLLIN };
				n_pending++;
			}
		i_ctl = np;
		np += ctl_pollfds(p + np, CTL_MAX);
		long r = sys_call3(SYS_poll, (long)p, np, -1);
		if (r < 0)
			continue;
		if (p[0].revents & POLLIN)
			accept_one();
		if (i_client >= 0 && (p[i_client].revents & (POLLIN | POLLHUP | POLLERR)))
			on_client_bytes();
		if (i_event >= 0 && (p[i_event].revents & POLLIN) && !dbg.stopped) {
			struct dbg_stop st;
			if (dbg.client_fd < 0)
				release_stray();
			else if (!exit_reported() && debug_stop_all(SIGTRAP, true, &st))
				send_stop(&st);
		}
		for (int k = i_pending; k < i_pending + n_pending; k++)
			if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
				for (int i = 0; i < PENDING_MAX; i++)
					if (pending[i].fd == p[k].fd)
						on_pending(i);
		for (int k = i_ctl; k < np; k++)
			if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
				ctl_readable(p[k].fd);
	}
	return NULL;
}

/* ---- setting up ---- */

/* Listen at path: the socket (0600) is made in a fresh 0700 directory
 * beside path, which becomes a symbolic link to it, so nobody else can
 * reach the socket at any moment (docs/debugging.md). */
static int listen_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	int fd, e;

	sockpath_dir(path, dbg.sock_dir, sizeof(dbg.sock_dir));
	snprintf(dir, sizeof(dir), "%s", dbg.sock_dir);
	if (snprintf(dbg.sock_dir, sizeof(dbg.sock_dir), "%s/" SOCKPATH_DIR_PREFIX "%d-XXXXXX", dir,
		     (int)getpid()) >= (int)sizeof(dbg.sock_dir) ||
	    strlen(dbg.sock_dir) + sizeof("/sock") > sizeof(a.sun_path)) {
		dbg.sock_dir[0] = 0;
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dbg.sock_dir)) {
		e = errno;
		dbg.sock_dir[0] = 0;
		return -e;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock", dbg.sock_dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(a.sun_path, 0600) < 0 ||
	    listen(fd, 4) < 0)
		goto fail;
	if (symlink(a.sun_path, path) < 0 &&
	    !(errno == EEXIST && sockpath_remove_stale(path) && symlink(a.sun_path, path) == 0)) {
		if (errno == EEXIST)
			errno = EADDRINUSE;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(a.sun_path);
	rmdir(dbg.sock_dir);
	dbg.sock_dir[0] = 0;
	return -e;
}

/* The program is leaving: its socket, directory and link go. */
static void remove_socket(void)
{
	char sock[PATH_MAX + 8], target[PATH_MAX];
	long n;

	if (!dbg.sock_dir[0] || getpid() != agent.pid)
		return;
	snprintf(sock, sizeof(sock), "%s/sock", dbg.sock_dir);
	n = readlink(dbg.path, target, sizeof(target) - 1);
	if (n > 0 && (target[n] = 0, !strcmp(target, sock)))
		unlink(dbg.path); /* still ours, not a new run's */
	unlink(sock);
	rmdir(dbg.sock_dir);
	dbg.sock_dir[0] = 0;
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
	if ((ntohl(a.sin_addr.s_addr) >> 24) != 127 && !agent.cfg.gdb_open)
		return -EADDRNOTAVAIL; /* loopback only, but for --gdb-bind */
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

/* Listen on spec and start the debugger's thread; 0, or -errno (logged). */
int debug_open(const char *spec)
{
	pthread_t th;
	pthread_attr_t attr;
	int fd, e;

	if (dbg.on)
		return -EEXIST;
	debug_find_agent_text();
	ctl_init();
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
		return fd;
	}
	dbg.listen_fd = agent_high_fd(fd);
	if (dbg.event_fd < 0) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			e = errno;
			pr_err("eventfd: %s; no debugger connection", strerror(e));
			goto fail;
		}
		dbg.event_fd = agent_high_fd(fd);
	}
	dbg.mem_flags = MEM_DEBUGGER | (agent.cfg.device_reads_live ? MEM_DEVICE_LIVE : 0);
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
	if (!dbg.exit_hooked && on_exit(on_program_exit, NULL) == 0)
		dbg.exit_hooked = true;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = real_get()->pthread_create(&th, &attr, serve, NULL);
	pthread_attr_destroy(&attr);
	if (e) {
		pr_err("cannot start the debugger thread: %s; no debugger connection", strerror(e));
		dbg.on = false;
		goto fail;
	}
	pr_info("debugger connection: listening on %s%s", spec,
		dbg.entry ? " (stopped at the entry point until a debugger connects)" : "");
	if (agent.cfg.gdb_open)
		pr_warn("%s is open to the network (--gdb-bind): a peer from another machine is "
			"let in unchecked",
			spec);
	return 0;
fail:
	remove_socket();
	sys_close(dbg.listen_fd);
	dbg.listen_fd = -1;
	return -e;
}

void debug_start(void)
{
	const char *spec = agent.cfg.gdb;
	int r;

	if (!spec[0] || (r = debug_open(spec)) == 0)
		return;
	if (r == -EADDRINUSE && !strncmp(spec, "unix:", 5) && sockpath_owner(spec + 5) > 0) {
		/* an exec'd child of the program whose stub has it: quiet */
		pr_info("%s is another process's connection; mmscope gdb %d opens one here",
			spec + 5, (int)agent.pid);
		return;
	}
	dprintf(2, "mmscope-agent: cannot listen for a debugger on %s: %s\n", spec, strerror(-r));
}

void debug_after_fork(void)
{
	if (!dbg.on)
		return;
	/* the child is not debugged: its copy of the text loses our int3s */
	debug_target_after_fork();
	hot_thaw(HOT_FOR_DEBUGGER);
	if (__atomic_load_n(&agent.trace_paused, __ATOMIC_ACQUIRE)) {
		/* the debugger's `trace off` was the parent's: nobody could
		 * turn it on here */
		agent.paused_accesses = 0;
		rec_trace_pause(false);
	}
	if (dbg.listen_fd >= 0)
		sys_close(dbg.listen_fd);
	if (dbg.client_fd >= 0)
		sys_close(dbg.client_fd);
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending[i].fd >= 0) {
			sys_close(pending[i].fd);
			pending[i].fd = -1;
		}
	if (dbg.event_fd >= 0)
		sys_close(dbg.event_fd); /* the parent's: a late attach here makes its own */
	ctl_after_fork();
	dbg.listen_fd = dbg.client_fd = dbg.event_fd = -1;
	dbg.on = false;
}
