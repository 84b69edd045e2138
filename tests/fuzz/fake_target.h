/* SPDX-License-Identifier: MIT */
/*
 * A debugger target over plain memory for the protocol layer's fuzz
 * harness (tests/fuzz/rsp_fuzz.c) and unit tests (tests/unit/test_target.c):
 * struct dbg_ops as the agent implements it (src/agent/debugsock.c), with
 * no process behind it.
 *
 * FAKE_NTHREADS threads with signal contexts of every shape the register
 * code meets (XSAVE with live YMM, XSAVE with YMM in its initial state,
 * FXSAVE only, no FP state at all, a misaligned area that must not be
 * taken for XSAVE, read-only); FAKE_MEM_SIZE bytes of memory at
 * FAKE_MEM_BASE and a device page at FAKE_DEV_BASE whose reads fail as
 * the agent's shadow mode does; everything else is -EFAULT.  A resume
 * ends as a program would: a step in SIGTRAP, a watchpoint or breakpoint
 * in its stop, SIGKILL in death, every third plain continue in exit, the
 * others running until ^C (fake_target_interrupt).
 *
 * The callbacks abort() when target.c breaks the dbg_ops contract: a
 * memory buffer outside the session's scratch, a resume request or
 * breakpoint type that cannot be, an object nobody asked to serve.
 */
#ifndef MMS_TESTS_FAKE_TARGET_H
#define MMS_TESTS_FAKE_TARGET_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/target.h"
#include "debug/x86_64.h"

#define FAKE_PID 0x1000
#define FAKE_NTHREADS 5
#define FAKE_MEM_BASE 0x401000ull
#define FAKE_MEM_SIZE 0x3000ull /* more than a reply of PacketSize holds in hex */
#define FAKE_DEV_BASE 0x7f0000000000ull
#define FAKE_DEV_SIZE 0x1000ull
#define FAKE_BP_MAX 8
#define FAKE_WP_MAX 4 /* like DR0..DR3 */

struct fake_thread {
	int tid;
	const char *name; /* what qThreadExtraInfo and qXfer:threads say */
	ucontext_t uc;
	struct x86_regctx ctx;
	_Alignas(64) uint8_t fp[2048];
};

struct fake_target {
	struct fake_thread t[FAKE_NTHREADS];
	uint8_t mem[FAKE_MEM_SIZE];
	uint8_t dev[FAKE_DEV_SIZE];
	uint64_t bp[FAKE_BP_MAX];
	int nbp;
	struct {
		enum dbg_bp_type type;
		uint64_t addr, len;
	} wp[FAKE_WP_MAX];
	int nwp;
	bool alive, stopped, stop_pending;
	struct dbg_stop stop; /* the one stop_pending says is to be sent */
	int first;	      /* index of the thread that stops first */
	int continues;
	bool big_auxv; /* "monitor auxv big": an auxv that fills its buffer */
	/* what the last packet made the target do */
	int resumed, killed, detached;
	/* the session's scratch: where read/write buffers must lie (NULL:
	 * not checked) */
	const char *scratch;
	size_t scratch_len;
};

#define FAKE_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: dbg_ops contract broken: %s\n", __FILE__, \
				__LINE__, #cond);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

static inline struct fake_thread *fake_thread_of(struct fake_target *t, int tid)
{
	for (int i = 0; i < FAKE_NTHREADS; i++)
		if (t->t[i].tid == tid)
			return &t->t[i];
	return NULL;
}

/* The bytes [addr, addr+len) of memory or device page, or NULL. */
static inline uint8_t *fake_bytes(struct fake_target *t, uint64_t addr, uint64_t len)
{
	if (addr >= FAKE_MEM_BASE && addr - FAKE_MEM_BASE <= FAKE_MEM_SIZE &&
	    len <= FAKE_MEM_SIZE - (addr - FAKE_MEM_BASE))
		return t->mem + (addr - FAKE_MEM_BASE);
	if (addr >= FAKE_DEV_BASE && addr - FAKE_DEV_BASE <= FAKE_DEV_SIZE &&
	    len <= FAKE_DEV_SIZE - (addr - FAKE_DEV_BASE))
		return t->dev + (addr - FAKE_DEV_BASE);
	return NULL;
}

/* Thread i's register file as a stopped thread has it; i also says where
 * its FP state is (see the file comment). */
static inline void fake_thread_setup(struct fake_thread *th, int i)
{
	static const char *const names[FAKE_NTHREADS] = {
		"driver", "io<ring>", "a&b\"c", "worker*1#}$", "",
	};
	greg_t *g = th->uc.uc_mcontext.gregs;
	uint8_t *fp = th->fp;
	uint16_t fcw = 0x37f, fsw = (uint16_t)(7u << 11); /* TOP = 7: one value pushed */
	uint32_t mxcsr = 0x1f80, magic = 0x46505853u;	  /* FP_XSTATE_MAGIC1 */
	uint64_t ymm = 4, mant = 0xc000000000000000ull;	  /* XFEATURE_YMM; 1.5 */
	uint16_t exp = 0x3fff;

	memset(th, 0, sizeof(*th));
	th->tid = i ? FAKE_PID + 0x10 + i : FAKE_PID;
	th->name = names[i];
	for (int r = 0; r < NGREG; r++)
		g[r] = (greg_t)(0x1111111111111111ull * (uint64_t)(r % 15 + 1) + (uint64_t)i);
	g[REG_RIP] = (greg_t)(FAKE_MEM_BASE + 0x100 + 0x10 * (uint64_t)i);
	g[REG_RSP] = (greg_t)(FAKE_MEM_BASE + FAKE_MEM_SIZE - 0x100 - 0x100 * (uint64_t)i);
	g[REG_EFL] = 0x246;
	g[REG_CSGSFS] = (greg_t)(0x33 | 0x2bull << 48);
	th->ctx = (struct x86_regctx){ .uc = &th->uc, .fs_base = 0x7ffff7d8a740ull + (uint64_t)i };
	if (i == 3) { /* a context without FP state */
		th->uc.uc_mcontext.fpregs = NULL;
		return;
	}
	if (i == 4) { /* parked inside mmscope's handler; FXSAVE misaligned for XSAVE */
		fp += 16;
		th->ctx.readonly = true;
	}
	th->uc.uc_mcontext.fpregs = (fpregset_t)fp;
	memcpy(fp, &fcw, 2);
	memcpy(fp + 2, &fsw, 2);
	fp[4] = 0x80; /* abridged tag: physical register 7 valid */
	memcpy(fp + 24, &mxcsr, 4);
	memcpy(fp + 32, &mant, 8); /* st0 */
	memcpy(fp + 40, &exp, 2);
	for (int b = 0; b < 256; b++)
		fp[160 + b] = (uint8_t)(b * 7 + i); /* xmm0..15 */
	if (i == 2)
		return;		     /* FXSAVE only */
	memcpy(fp + 464, &magic, 4); /* struct _fpx_sw_bytes: XSAVE follows */
	memcpy(fp + 472, &ymm, 8);
	if (i == 0) { /* YMM live; i == 1 leaves it in its initial state */
		memcpy(fp + 512, &ymm, 8);
		for (int b = 0; b < 256; b++)
			fp[576 + b] = (uint8_t)(0xa0 ^ b);
	}
}

/* A new program, stopped nowhere yet; first: the thread that stops
 * first (FAKE_NTHREADS > first >= 0). */
static inline void fake_target_init(struct fake_target *t, int first)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < FAKE_NTHREADS; i++)
		fake_thread_setup(&t->t[i], i);
	for (uint64_t i = 0; i < FAKE_MEM_SIZE; i++)
		t->mem[i] = (uint8_t)(i * 131 + (i >> 8));
	memset(t->dev, 0xd5, sizeof(t->dev));
	t->alive = true;
	t->first = first;
}

static inline void fake_stop(struct fake_target *t, enum dbg_stop_why why, int sig, int tid,
			     uint64_t addr)
{
	t->stopped = true;
	t->stop = (struct dbg_stop){ .why = why, .tid = tid, .sig = sig, .addr = addr };
	if (why == DBG_STOP_EXITED)
		t->stop.status = t->continues & 0xff;
	t->stop_pending = true;
}

/* ^C while running: every thread stops, SIGINT in the first; false when
 * there is nothing to stop. */
static inline bool fake_target_interrupt(struct fake_target *t, struct dbg_stop *st)
{
	if (!t->alive || t->stopped)
		return false;
	fake_stop(t, DBG_STOP_SIGNAL, SIGINT, t->t[t->first].tid, 0);
	t->stop_pending = false;
	*st = t->stop;
	return true;
}

/* The stop a resume ended in, once; false while the program runs. */
static inline bool fake_target_take_stop(struct fake_target *t, struct dbg_stop *st)
{
	if (!t->stop_pending)
		return false;
	t->stop_pending = false;
	*st = t->stop;
	return true;
}

/* ---- struct dbg_ops ---- */

static int fake_threads(void *arg, int *tids, int max)
{
	struct fake_target *t = arg;
	int n = 0;

	FAKE_CHECK(max > 0 && max <= DBG_MAX_THREADS);
	if (!t->alive || !t->stopped)
		return 0;
	tids[n++] = t->t[t->first].tid;
	for (int i = 0; i < FAKE_NTHREADS && n < max; i++)
		if (i != t->first)
			tids[n++] = t->t[i].tid;
	return n;
}

static int fake_regs(void *arg, int tid, struct x86_regctx **c)
{
	struct fake_target *t = arg;
	struct fake_thread *th = t->alive && t->stopped ? fake_thread_of(t, tid) : NULL;

	if (!th)
		return -ESRCH;
	*c = &th->ctx;
	return 0;
}

static void fake_check_buf(struct fake_target *t, const void *buf, size_t len)
{
	const char *b = buf;

	FAKE_CHECK(!t->scratch || (b >= t->scratch && len <= t->scratch_len &&
				   b - t->scratch <= (long)(t->scratch_len - len)));
}

/* Bytes done, short where the memory ends, as the agent's mem_read. */
static long fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct fake_target *t = arg;
	uint8_t *p = fake_bytes(t, addr, 0);
	uint64_t room;

	fake_check_buf(t, buf, len);
	if (!p || !len)
		return p ? 0 : -EFAULT;
	if (addr >= FAKE_DEV_BASE)
		return -EIO; /* device reads: shadow mode */
	room = FAKE_MEM_SIZE - (addr - FAKE_MEM_BASE);
	if (!room)
		return -EFAULT;
	len = len < room ? len : (size_t)room;
	memcpy(buf, p, len);
	return (long)len;
}

static long fake_write(void *arg, uint64_t addr, const void *buf, size_t len)
{
	struct fake_target *t = arg;
	uint8_t *p = fake_bytes(t, addr, 0);
	uint64_t room;

	fake_check_buf(t, buf, len);
	if (!p)
		return -EFAULT;
	room = addr >= FAKE_DEV_BASE ? FAKE_DEV_SIZE - (addr - FAKE_DEV_BASE)
				     : FAKE_MEM_SIZE - (addr - FAKE_MEM_BASE);
	if (len && !room)
		return -EFAULT;
	len = len < room ? len : (size_t)room;
	memcpy(p, buf, len);
	return (long)len;
}

static int fake_resume(void *arg, const struct dbg_resume *r)
{
	struct fake_target *t = arg;
	int sig = 0, step = 0;

	FAKE_CHECK(r->n >= 1 && r->n <= DBG_MAX_ACTIONS);
	for (int k = 0; k < r->n; k++) {
		FAKE_CHECK(r->a[k].act == DBG_ACT_STOP || r->a[k].act == DBG_ACT_CONTINUE ||
			   r->a[k].act == DBG_ACT_STEP);
		FAKE_CHECK(r->a[k].sig >= 0 && r->a[k].sig <= 64);
		FAKE_CHECK(r->a[k].tid >= -1);
		if (r->a[k].sig && !sig && r->a[k].act != DBG_ACT_STOP)
			sig = r->a[k].sig;
		if (r->a[k].act == DBG_ACT_STEP && !step) {
			int tid = r->a[k].tid == -1 ? t->t[t->first].tid : r->a[k].tid;
			step = fake_thread_of(t, tid) ? tid : 0;
		}
	}
	if (!t->alive)
		return -ESRCH;
	if (!t->stopped)
		return -EBUSY;
	t->resumed++;
	t->stopped = false;
	if (step) {
		fake_thread_of(t, step)->uc.uc_mcontext.gregs[REG_RIP]++;
		fake_stop(t, DBG_STOP_SIGNAL, SIGTRAP, step, 0);
	} else if (sig == SIGKILL) {
		fake_stop(t, DBG_STOP_KILLED, SIGKILL, t->t[t->first].tid, 0);
	} else if (t->nwp) {
		static const enum dbg_stop_why why[] = {
			[DBG_WP_WRITE] = DBG_STOP_WATCH,
			[DBG_WP_READ] = DBG_STOP_RWATCH,
			[DBG_WP_ACCESS] = DBG_STOP_AWATCH,
		};
		fake_stop(t, why[t->wp[0].type], SIGTRAP, t->t[t->first].tid, t->wp[0].addr);
	} else if (t->nbp) {
		struct fake_thread *th = &t->t[t->first];
		th->uc.uc_mcontext.gregs[REG_RIP] = (greg_t)t->bp[0];
		fake_stop(t, DBG_STOP_SWBREAK, SIGTRAP, th->tid, 0);
	} else if (sig) {
		fake_stop(t, DBG_STOP_SIGNAL, sig, t->t[t->first].tid, 0);
	} else if (++t->continues % 3 == 0) {
		fake_stop(t, DBG_STOP_EXITED, 0, t->t[t->first].tid, 0);
	}
	return 0;
}

static int fake_bp(void *arg, bool insert, enum dbg_bp_type type, uint64_t addr, uint64_t len)
{
	struct fake_target *t = arg;

	FAKE_CHECK(type <= DBG_WP_ACCESS);
	if (type == DBG_BP_HW)
		return -EOPNOTSUPP;
	if (type == DBG_BP_SW) {
		int i;
		if (len != 1)
			return -EINVAL;
		if (!fake_bytes(t, addr, 1) || addr >= FAKE_DEV_BASE)
			return -EFAULT;
		for (i = 0; i < t->nbp && t->bp[i] != addr; i++)
			;
		if (!insert) {
			if (i < t->nbp)
				t->bp[i] = t->bp[--t->nbp];
			return 0;
		}
		if (i < t->nbp)
			return 0; /* gdb may insert twice */
		if (t->nbp == FAKE_BP_MAX)
			return -ENOSPC;
		t->bp[t->nbp++] = addr;
		return 0;
	}
	if ((len != 1 && len != 2 && len != 4 && len != 8) || addr % len)
		return -EINVAL;
	for (int i = 0; i < t->nwp; i++)
		if (t->wp[i].addr == addr && t->wp[i].len == len && t->wp[i].type == type) {
			if (!insert)
				t->wp[i] = t->wp[--t->nwp];
			return 0;
		}
	if (!insert)
		return 0;
	if (t->nwp == FAKE_WP_MAX)
		return -ENOSPC;
	t->wp[t->nwp].type = type;
	t->wp[t->nwp].addr = addr;
	t->wp[t->nwp++].len = len;
	return 0;
}

static long fake_object(void *arg, const char *name, char *buf, size_t cap)
{
	static const char exe[] = "/opt/fake driver/bin/drv#1$}*";
	struct fake_target *t = arg;

	FAKE_CHECK(cap > 0);
	if (!strcmp(name, "exec-file")) {
		size_t n = strlen(exe) < cap ? strlen(exe) : cap;
		memcpy(buf, exe, n);
		return (long)n;
	}
	if (!strncmp(name, "siginfo:", 8)) {
		/* a thread stopped by a signal of its own: the first known one */
		long tid = strtol(name + 8, NULL, 10);
		FAKE_CHECK(tid > 0);
		if (tid != t->t[t->first].tid)
			return -ENODATA;
		memset(buf, 0x5a, cap < 128 ? cap : 128);
		return cap < 128 ? (long)cap : 128;
	}
	FAKE_CHECK(!strcmp(name, "auxv"));
	/* AT_* pairs whose values hold the bytes the framing escapes */
	size_t n = t->big_auxv ? cap : 22 * 16 < cap ? 22 * 16 : cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((i & 8) ? "$#}*\x03\x00+-"[(i * 5) & 7] : (char)(i / 16));
	return (long)n;
}

/* Like the agent's: text, its length; an unknown command is answered
 * with snprintf's return, which can exceed cap (as the agent's can). */
static long fake_monitor(void *arg, const char *cmd, char *out, size_t cap)
{
	struct fake_target *t = arg;

	if (!strcmp(cmd, "help"))
		return snprintf(out, cap, "fake monitor: help echo fill auxv fail\n");
	if (!strncmp(cmd, "echo ", 5)) {
		size_t n = strlen(cmd + 5) < cap ? strlen(cmd + 5) : cap;
		memcpy(out, cmd + 5, n);
		return (long)n;
	}
	if (!strcmp(cmd, "fill")) {
		memset(out, '*', cap);
		return (long)cap;
	}
	if (!strcmp(cmd, "auxv big") || !strcmp(cmd, "auxv small")) {
		t->big_auxv = cmd[5] == 'b';
		return 0;
	}
	if (!strcmp(cmd, "fail"))
		return -EIO;
	if (!strcmp(cmd, "unsupported"))
		return -EOPNOTSUPP;
	return snprintf(out, cap, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
}

static long fake_thread_name(void *arg, int tid, char *out, size_t cap)
{
	struct fake_thread *th = fake_thread_of(arg, tid);
	size_t n = th ? strlen(th->name) : 0;

	n = n < cap ? n : cap;
	if (n)
		memcpy(out, th->name, n);
	return (long)n;
}

static void fake_detach(void *arg)
{
	struct fake_target *t = arg;

	t->detached++;
	t->nbp = t->nwp = 0;
	t->stopped = false;
	t->stop_pending = false;
}

static void fake_kill(void *arg)
{
	struct fake_target *t = arg;

	t->killed++;
	t->alive = false;
}

static const struct dbg_ops fake_target_ops = {
	.threads = fake_threads,
	.regs = fake_regs,
	.read = fake_read,
	.write = fake_write,
	.resume = fake_resume,
	.bp = fake_bp,
	.object = fake_object,
	.monitor = fake_monitor,
	.thread_name = fake_thread_name,
	.detach = fake_detach,
	.kill = fake_kill,
};

/* A debugger connects, as the agent's accept: every thread stops (SIGTRAP
 * in the first) unless stopped already, and the session reports that. */
static inline void fake_target_connect(struct fake_target *t, struct dbg_session *s)
{
	dbg_session_init(s, &fake_target_ops, t, FAKE_PID);
	t->scratch = s->scratch;
	t->scratch_len = sizeof(s->scratch);
	if (!t->stopped) {
		fake_stop(t, DBG_STOP_SIGNAL, SIGTRAP, t->t[t->first].tid, 0);
		t->stop_pending = false;
		s->last = t->stop;
	}
	s->avx = x86_has_avx(&t->t[t->first].uc);
}

#endif
