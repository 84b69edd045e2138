/* SPDX-License-Identifier: MIT */
/*
 * The debugger's command layer: one GDB remote protocol packet in, its
 * reply out (GDB manual, "Packets", "General Query Packets", "Stop Reply
 * Packets").  What a command does to the program goes through struct
 * dbg_ops, which the agent implements over its parking, memory accessor
 * and breakpoints; the fuzz harness and unit tests implement it over
 * plain memory.  Nothing here allocates.
 */
#ifndef MMS_DEBUG_TARGET_H
#define MMS_DEBUG_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ucontext.h>

#include "debug/x86_64.h"

#define DBG_MAX_THREADS 4096
#define DBG_MAX_ACTIONS 16

/* Why the program stopped, as a stop reply says it. */
enum dbg_stop_why {
	DBG_STOP_SIGNAL,  /* sig: ^C (SIGINT), a step (SIGTRAP) */
	DBG_STOP_SWBREAK, /* an int3 the debugger placed */
	DBG_STOP_HWBREAK,
	DBG_STOP_WATCH, /* watch:/rwatch:/awatch: with addr */
	DBG_STOP_RWATCH,
	DBG_STOP_AWATCH,
	DBG_STOP_EXITED, /* W: status */
	DBG_STOP_KILLED, /* X: sig */
};

struct dbg_stop {
	enum dbg_stop_why why;
	int tid;
	int sig; /* Linux signal number */
	int status;
	uint64_t addr;
};

/* A resume request: what each thread does (vCont, or c/s/C/S). */
enum dbg_act { DBG_ACT_STOP, DBG_ACT_CONTINUE, DBG_ACT_STEP };
struct dbg_resume {
	int n;
	struct {
		enum dbg_act act;
		int sig; /* deliver this signal on resume; 0 none */
		int tid; /* -1: every thread not named before */
	} a[DBG_MAX_ACTIONS];
};

enum dbg_bp_type { DBG_BP_SW, DBG_BP_HW, DBG_WP_WRITE, DBG_WP_READ, DBG_WP_ACCESS };

struct dbg_ops {
	/* the stopped threads, the one that stopped first at [0]; a count */
	int (*threads)(void *arg, int *tids, int max);
	/* a stopped thread's registers; 0 or -ESRCH */
	int (*regs)(void *arg, int tid, struct x86_regctx **c);
	/* memory as the program sees it; bytes done (short at a hole), or
	 * -errno when none could be */
	long (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	long (*write)(void *arg, uint64_t addr, const void *buf, size_t len);
	/* let threads run; the stop that ends it comes through dbg_stopped */
	int (*resume)(void *arg, const struct dbg_resume *r);
	/* Z and z: 0, -EOPNOTSUPP (answer empty: gdb falls back), or -errno */
	int (*bp)(void *arg, bool insert, enum dbg_bp_type type, uint64_t addr, uint64_t len);
	/* qXfer objects the target serves ("auxv", "exec-file", "siginfo:TID"
	 * the siginfo_t of a thread stopped by a signal): the whole
	 * object into buf; its length, or -errno */
	long (*object)(void *arg, const char *name, char *buf, size_t cap);
	/* monitor commands: output text into out; its length or -errno */
	long (*monitor)(void *arg, const char *cmd, char *out, size_t cap);
	/* a name for qThreadExtraInfo into out; its length */
	long (*thread_name)(void *arg, int tid, char *out, size_t cap);
	void (*detach)(void *arg);
	void (*kill)(void *arg);
};

/* One connection's protocol state. */
struct dbg_session {
	const struct dbg_ops *ops;
	void *arg;
	int pid;
	bool avx;
	bool no_ack;	   /* QStartNoAckMode */
	bool multiprocess; /* gdb said multiprocess+: thread ids are p<pid>.<tid> */
	int g_tid, c_tid;  /* Hg / Hc: 0 = any, -1 = all */
	int thread_cursor; /* qsThreadInfo */
	/* QPassSignals: bit sig-1 set for a signal gdb neither stops for nor
	 * keeps from the program (read by the target in signal context) */
	uint64_t pass;
	struct dbg_stop last;
	char scratch[16384]; /* qXfer objects are built here */
};

enum dbg_result {
	DBG_REPLY,    /* send the reply */
	DBG_RESUMED,  /* no reply now: the stop reply comes later */
	DBG_DETACHED, /* reply sent, then close the connection */
	DBG_KILLED,
};

void dbg_session_init(struct dbg_session *s, const struct dbg_ops *ops, void *arg, int pid);
/* Handle one packet payload (NUL-terminated, escapes still in it); the
 * reply payload into out[0..*outlen). */
enum dbg_result dbg_handle(struct dbg_session *s, char *pkt, size_t len, char *out, size_t cap,
			   size_t *outlen);
/* The stop reply for st, which becomes the session's last stop. */
size_t dbg_stop_reply(struct dbg_session *s, const struct dbg_stop *st, char *out, size_t cap);

#endif
