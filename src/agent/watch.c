/* SPDX-License-Identifier: MIT */
/*
 * Watchpoints in the program: arm each --watch with a debug register when
 * the arbiter grants one, with its pages otherwise, and record every hit.
 *
 * Page mechanism: the watched pages get a REGION_WATCH entry in the region
 * table and a closed view (PROT_NONE, or read-only for write-only watches);
 * the fault path completes every access to them through /proc/self/mem
 * (mem_peek/poke: the kernel's access ignores the view's protection) and
 * hands the completed access to watch_on_access(), which records the hits
 * and drops the misses.  Private memory cannot be mapped twice, so this is
 * the page mechanism's "alias".
 *
 * Hardware mechanism: one perf_event_open breakpoint per thread with
 * sigtrap, inherited by the threads those create; a hit is a SIGTRAP with
 * TRAP_PERF and our cookie, taken after the access completed.
 *
 * Moving between the two never loses a hit: the new mechanism is armed
 * before the old one is disarmed, and while both are armed an access is
 * seen once, because the page mechanism performs it through the kernel,
 * which a user-space data breakpoint does not see.
 */
#include <dirent.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/debugsock.h"
#include "agent/mem.h"
#include "agent/observe.h"
#include "agent/record.h"
#include "agent/watch-internal.h"
#include "mmscope/trace-format.h"
#include "util/fmt.h"
#include "util/hwbp.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/lock.h"
#include "util/sys.h"

#define LOG_DOMAIN "watch"
#include "util/log.h"

/* sig_data of our breakpoints: tag in the high half, watch id in the low */
#define WATCH_COOKIE_TAG 0x6d6d7377ull /* "mmsw" */
#define WATCH_COOKIE(id) ((WATCH_COOKIE_TAG << 32) | (id))

static __thread int my_tid;

/* ---- /proc/self/mem ---- */

/* ---- the lock for watched private pages ---- */

/*
 * signal context.  Recursive (a nested synchronous fault of the holder
 * may take it again).  While it is held the thread's asynchronous signals
 * are blocked, the slow path's park signal among them: a holder is never
 * parked, so a stepping thread that needs this lock never waits for a
 * parked thread (issue 7, C.10).  Whoever parks others waits for the
 * holder's short critical section to end instead.
 */
void watch_lock(void)
{
	int expected = 0;
	sigset_t saved;

	if (!my_tid)
		my_tid = (int)sys_gettid();
	if (__atomic_load_n(&agent.watch_owner, __ATOMIC_ACQUIRE) == my_tid) {
		agent.watch_depth++;
		return;
	}
	mlock_block_async(&saved);
	while (!__atomic_compare_exchange_n(&agent.watch_owner, &expected, my_tid, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		expected = 0;
		__builtin_ia32_pause();
	}
	agent.watch_saved = saved;
	agent.watch_depth = 1;
}

/* signal context */
void watch_unlock(void)
{
	if (--agent.watch_depth == 0) {
		sigset_t saved = agent.watch_saved;
		__atomic_store_n(&agent.watch_owner, 0, __ATOMIC_RELEASE);
		sys_rt_sigprocmask(SIG_SETMASK, &saved, NULL);
	}
}

/* ---- records ---- */

#define HIT_FRAMES_MAX 16

/*
 * signal context: the call chain of the access, innermost first, starting
 * at the frame whose address is from (the interrupted pc, or an
 * interposed call's return address): our own frames are skipped.
 * libgcc's unwinder finds unwind tables through glibc's _dl_find_object
 * (no lock, no allocation) and unwinds through the signal frame;
 * backtrace() was called once at setup so that libgcc_s is loaded.
 */
static int call_chain(uint64_t from, uint64_t *out)
{
	void *buf[48];
	int n = backtrace(buf, 48), i = 0, k = 0;

	while (i < n && (uint64_t)buf[i] != from)
		i++;
	for (; i < n && k < HIT_FRAMES_MAX; i++)
		out[k++] = (uint64_t)buf[i];
	return k;
}

/* signal context */
static void record_hit(struct thread_state *t, const struct watch *w, uint64_t pc, uint64_t addr,
		       unsigned width, int dir, uint16_t flags, const uint8_t *old,
		       const uint8_t *new)
{
	uint64_t frames[HIT_FRAMES_MAX];
	int nframes = agent.backtraces ? call_chain(pc, frames) : 0;

	rec_hit(t, w, pc, addr, width, dir, flags, old, new, frames, nframes);
}

void watch_set_mech(struct watch *w, uint8_t mech)
{
	if (w->mech == mech)
		return;
	w->mech = mech;
	rec_watch(w);
	if (agent.cfg.verbose)
		pr_info("watch %u (%s) now uses %s", w->id, w->expr,
			mech == MMS_WM_HW     ? "a debug register"
			: mech == MMS_WM_PAGE ? "pages"
					      : "nothing");
}

/* ---- hits ---- */

/* signal context: the watch with index i of every watch there is */
static struct watch *watch_at(uint32_t i)
{
	if (i < agent.nwatches)
		return agent.watches[i];
	return watch_debugger_at(i - agent.nwatches);
}

static uint32_t watch_count(void)
{
	return agent.nwatches + watch_debugger_made();
}

/* signal context */
void watch_on_access(struct thread_state *t, uint64_t pc, const struct emu_access *a,
		     uint16_t hit_flags)
{
	watch_lock();
	for (uint32_t i = 0; i < watch_count(); i++) {
		struct watch *w = watch_at(i);
		uint64_t lo, hi, any_lo, any_hi;
		/* a watch held in a debug register counts too: an access
		 * completed here went through the kernel, which the register
		 * does not see (its page is armed for another watch) */
		if (!w || (!w->pages_armed && !w->hw_armed))
			continue;
		if (watch_hits(w, a->addr, a->width, a->dir, &lo, &hi)) {
			const uint8_t *val = a->value ? a->value + (lo - a->addr) : NULL;
			const uint8_t *old = w->old_known ? w->shadow + (lo - w->addr) : NULL;
			if (a->dir == MMS_DIR_READ)
				old = val; /* a read: both are the value read */
			record_hit(t, w, pc, lo, (unsigned)(hi - lo), a->dir,
				   hit_flags | (old ? 0 : MMS_HF_OLD_UNKNOWN) |
					   (val ? 0 : MMS_HF_NEW_UNKNOWN),
				   old, val);
			/* the kernel's own accesses (a read() into it) are
			 * recorded; the debugger stops on the program's */
			if (watch_stops_debugger(w) && !(hit_flags & MMS_HF_SYSCALL))
				debug_watch_hit(w->type, lo);
		}
		/* any access with a known value tells the watched bytes' value */
		if (a->value && watch_hits(w, a->addr, a->width, 0, &any_lo, &any_hi)) {
			memcpy(w->shadow + (any_lo - w->addr), a->value + (any_lo - a->addr),
			       any_hi - any_lo);
			if (any_lo == w->addr && any_hi == w->addr + w->len)
				w->old_known = true;
		}
	}
	watch_unlock();
}

/* signal context */
void watch_on_stepped(struct thread_state *t, uint64_t pc, uint64_t addr, unsigned width, int dir)
{
	uint8_t now[64];
	struct emu_access a = { .addr = addr,
				.width = (uint8_t)(width ? width : 1),
				.dir = (uint8_t)dir };

	if (a.width > 64)
		a.width = 64;
	if (mem_peek(addr, now, a.width) == 0)
		a.value = now;
	watch_on_access(t, pc, &a, 0);
}

/* signal context */
bool watch_on_trap(siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t cookie;
	struct watch *w;
	uint8_t now[8];
	int dir;

	if (si->si_code != TRAP_PERF)
		return false;
	cookie = hwbp_si_cookie(si);
	if (cookie >> 32 != WATCH_COOKIE_TAG)
		return false;
	if ((uint32_t)cookie == 0 || (uint32_t)cookie > agent.nwatches)
		return true; /* ours, from a watch that no longer exists */
	w = agent.watches[(uint32_t)cookie - 1];
	if (w->len > sizeof(now) || mem_peek(w->addr, now, (unsigned)w->len) < 0)
		return true;
	watch_lock();
	bool changed = !w->old_known || memcmp(now, w->shadow, w->len);
	/* a read/write register that left the value alone: read, or a write
	 * of the same value; the trap cannot say which */
	dir = changed || w->type == MMS_WATCH_WRITE ? MMS_DIR_WRITE : 0;
	record_hit(thread_get(), w, (uint64_t)uc->uc_mcontext.gregs[REG_RIP], w->addr,
		   (unsigned)w->len, dir,
		   MMS_HF_HW | MMS_HF_PC_AFTER | (w->old_known ? 0 : MMS_HF_OLD_UNKNOWN), w->shadow,
		   now);
	memcpy(w->shadow, now, w->len);
	w->old_known = true;
	watch_unlock();
	return true;
}

/* ---- the page mechanism ---- */

/* Recently disarmed pages (a ring): a thread may have faulted on one just
 * before it reopened and looked the region up just after it was removed. */
static uint64_t disarmed[64];
static unsigned disarmed_next;

/* signal context */
bool watch_recently_disarmed(uint64_t addr)
{
	uint64_t page = addr & ~(WATCH_PAGE - 1);

	for (unsigned i = 0; i < 64; i++)
		if (__atomic_load_n(&disarmed[i], __ATOMIC_ACQUIRE) == page + 1)
			return true;
	return false;
}

int agent_view_prot(const struct region *r)
{
	if ((r->flags & REGION_TRACE) || !(r->flags & REGION_WATCH) || r->watch_read_refs)
		return PROT_NONE;
	return r->prot & PROT_READ;
}

/* The protection the program has on the page at addr, from
 * /proc/self/maps; -ENOMEM if nothing is mapped there. */
int watch_page_prot(uint64_t addr, bool *private)
{
	static struct maps_reader mr; /* setup and arbiter moves: arb_lock held */
	static struct maps_line m;
	int prot = -ENOMEM, r;

	if ((r = maps_open(&mr)) < 0)
		return r;
	while (maps_next(&mr, &m) > 0) {
		if (addr < m.lo || addr >= m.hi)
			continue;
		prot = maps_prot(&m);
		*private = m.perms[3] == 'p';
		break;
	}
	maps_close(&mr);
	return prot;
}

void watch_pages_arm(struct watch *w)
{
	uint64_t first, end;
	sigset_t old;

	watch_pages(w, &first, &end);
	for (uint64_t p = first; p < end; p += WATCH_PAGE) {
		bool private = true;
		int prot = watch_page_prot(p, &private);
		agent_table_lock(&old);
		struct region *r = region_get_mut(&agent.regions, p);
		if (!r && prot >= 0) {
			struct region nr = {
				.start = p,
				.end = p + WATCH_PAGE,
				.base = p,
				.prot = prot,
				.mmap_flags = private ? MAP_PRIVATE : MAP_SHARED,
				.flags = REGION_WATCH,
			};
			if (region_add(&agent.regions, &nr) == 0)
				r = region_get_mut(&agent.regions, p);
		}
		if (r) {
			r->flags |= REGION_WATCH;
			r->watch_refs++;
			if (watch_needs_reads(w))
				r->watch_read_refs++;
			if (!r->alias)
				sys_mprotect((void *)p, WATCH_PAGE, agent_view_prot(r));
		}
		agent_table_unlock(&old);
	}
	w->pages_armed = true;
}

void watch_pages_disarm(struct watch *w)
{
	uint64_t first, end;
	sigset_t old;

	w->pages_armed = false;
	watch_pages(w, &first, &end);
	for (uint64_t p = first; p < end; p += WATCH_PAGE) {
		agent_table_lock(&old);
		struct region *r = region_get_mut(&agent.regions, p);
		if (r && r->watch_refs) {
			r->watch_refs--;
			if (watch_needs_reads(w) && r->watch_read_refs)
				r->watch_read_refs--;
			if (!r->watch_refs)
				r->flags &= ~REGION_WATCH;
			if (!r->alias && !r->watch_refs) {
				/* reopen first, then forget: see disarmed[] */
				sys_mprotect((void *)p, WATCH_PAGE, r->prot);
				__atomic_store_n(&disarmed[disarmed_next++ % 64], p + 1,
						 __ATOMIC_RELEASE);
				region_cut(&agent.regions, p, p + WATCH_PAGE, NULL, NULL);
			} else if (!r->alias) {
				sys_mprotect((void *)p, WATCH_PAGE, agent_view_prot(r));
			}
		}
		agent_table_unlock(&old);
	}
}

/* ---- the hardware mechanism ---- */

static unsigned hw_type(const struct watch *w)
{
	return w->type == MMS_WATCH_WRITE ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW;
}

static bool has_fd_for(const struct watch *w, const int *tids, int n, int tid)
{
	(void)w;
	for (int i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

/*
 * Arrays of descriptors and thread ids, grown with raw mmap: moving a
 * watch may run in any context the program calls us from (a signal
 * handler's read() or nanosleep()), where malloc is not safe.  The
 * mapping's size is kept in the word before the array.
 */
static int *ints_grow(int *a, int n)
{
	size_t have = a ? (size_t)a[-1] : 0, need = (size_t)n + 1;
	size_t bytes = (need * sizeof(int) + 4095) & ~(size_t)4095;
	int *m;

	if (a && (size_t)n <= have)
		return a;
	m = sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys_mmap_failed(m))
		return NULL;
	m[0] = (int)(bytes / sizeof(int)) - 1;
	if (a) {
		memcpy(m + 1, a, (size_t)(n - 1 > 0 ? n - 1 : 0) * sizeof(int));
		sys_munmap(a - 1, ((size_t)a[-1] + 1) * sizeof(int));
	}
	return m + 1;
}

static void ints_free(int *a)
{
	if (a)
		sys_munmap(a - 1, ((size_t)a[-1] + 1) * sizeof(int));
}

static void hw_disarm(struct watch *w)
{
	for (int i = 0; i < w->n_hw_fd; i++)
		sys_close(w->hw_fd[i]);
	ints_free(w->hw_fd);
	w->hw_fd = NULL;
	w->n_hw_fd = 0;
	w->hw_armed = false;
}

struct arm_scan {
	struct watch *w;
	int *tids, ntids;
};

/* one thread of /proc/self/task: 0, or -errno to stop */
static int hw_arm_one(void *arg, int tid)
{
	struct arm_scan *sc = arg;
	struct watch *w = sc->w;
	int fd;

	if (tid <= 0 || has_fd_for(w, sc->tids, sc->ntids, tid))
		return 0;
	fd = hwbp_open_inherited(tid, w->addr, (unsigned)w->len, hw_type(w), WATCH_COOKIE(w->id));
	if (fd == -ESRCH)
		return 0; /* it exited meanwhile */
	if (fd < 0)
		return fd;
	int *nt = ints_grow(sc->tids, sc->ntids + 1);
	if (nt)
		sc->tids = nt;
	int *nf = ints_grow(w->hw_fd, sc->ntids + 1);
	if (nf)
		w->hw_fd = nf;
	if (!nt || !nf) {
		sys_close(fd);
		return -ENOMEM;
	}
	sc->tids[sc->ntids] = tid;
	w->hw_fd[sc->ntids++] = agent_high_fd(fd);
	w->n_hw_fd = sc->ntids;
	return 0;
}

/* One inherited breakpoint on every thread there is; the threads they
 * create inherit it.  The list is read twice so that a thread created by
 * one not yet armed is not missed.  No malloc: see ints_grow(). */
static int hw_arm(struct watch *w)
{
	struct arm_scan sc = { .w = w };
	int err = 0;

	for (int pass = 0; pass < 2 && !err; pass++)
		err = proc_each_task(hw_arm_one, &sc);
	ints_free(sc.tids);
	if (err) {
		pr_debug("watch %u: no debug register on every thread (%s): pages", w->id,
			 strerror(-err));
		hw_disarm(w);
		return err;
	}
	w->hw_armed = true;
	return 0;
}

/* ---- moving between the two (arbiter callbacks, arb_lock held) ---- */

static bool hw_failed;

static void on_gained(struct arb_req *req, int slot)
{
	struct watch *w = req->arg;

	(void)slot;
	if (hw_arm(w) < 0) {
		hw_failed = true; /* settle() gives the slot back */
		return;
	}
	if (w->pages_armed)
		watch_pages_disarm(w);
	watch_set_mech(w, MMS_WM_HW);
}

static void on_lost(struct arb_req *req, int slot)
{
	struct watch *w = req->arg;

	(void)slot;
	if (!w->pages_armed)
		watch_pages_arm(w);
	hw_disarm(w);
	watch_set_mech(w, MMS_WM_PAGE);
}

/* After any arbiter call: a watch granted a slot it could not use goes
 * back to pages for good.  arb_lock held. */
void watch_settle(void)
{
	while (hw_failed) {
		hw_failed = false;
		for (uint32_t i = 0; i < agent.nwatches; i++) {
			struct watch *w = agent.watches[i];
			if (w->req.active && w->req.slot >= 0 && !w->hw_armed) {
				arb_release(&agent.arb, &w->req);
				if (!w->pages_armed)
					watch_pages_arm(w);
				watch_set_mech(w, MMS_WM_PAGE);
			}
		}
	}
}

/* ---- setup ---- */

struct module_query {
	const char *path;
	uint64_t base;
	bool found;
};

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct module_query *q = arg;
	char real[PATH_MAX];
	const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";

	(void)size;
	if (!realpath(name, real) || strcmp(real, q->path))
		return 0;
	q->base = info->dlpi_addr;
	q->found = true;
	return 1;
}

bool watch_in_traced(uint64_t lo, uint64_t hi)
{
	struct region r[8];
	int n = region_overlaps(&agent.regions, lo, hi, r, 8);

	for (int i = 0; i < n; i++)
		if (r[i].flags & REGION_TRACE)
			return true;
	return false;
}

static void watch_fail(const struct config_watch *cw, const char *why)
{
	char msg[CONFIG_EXPR_MAX + 256];

	snprintf(msg, sizeof(msg), "--watch %s: %s; not watched", cw->expr, why);
	rec_proc(MMS_PROC_NOTE, 0, msg);
	dprintf(2, "mmscope: %s\n", msg);
}

static struct watch *watch_create(const struct config_watch *cw, uint32_t id)
{
	struct module_query q = { .path = cw->module };
	uint64_t addr = cw->vaddr;
	struct watch *w;

	if (strcmp(cw->module, "-")) {
		dl_iterate_phdr(module_cb, &q);
		if (!q.found) {
			watch_fail(cw, "its module is not loaded");
			return NULL;
		}
		addr += q.base;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->shadow = calloc(1, cw->len)) || !(w->expr = strdup(cw->expr))) {
		if (w)
			free(w->shadow);
		free(w);
		watch_fail(cw, "out of memory");
		return NULL;
	}
	w->id = id;
	w->type = (uint8_t)cw->type;
	w->addr = addr;
	w->len = cw->len;
	w->req = (struct arb_req){ .cls = agent.cfg.hw_invasive ? ARB_INVASIVE : ARB_TOOL,
				   .owner = 0,
				   .gained = on_gained,
				   .lost = on_lost,
				   .arg = w,
				   .slot = -1 };
	uint64_t first, end;
	watch_pages(w, &first, &end);
	for (uint64_t p = first; p < end; p += WATCH_PAGE) {
		bool private;
		int prot = watch_page_prot(p, &private);
		const char *why = prot < 0	       ? "not mapped when the program started"
				  : (prot & PROT_EXEC) ? "executable memory cannot be watched"
						       : NULL;
		if (why) {
			watch_fail(cw, why);
			free(w->shadow);
			free((void *)w->expr);
			free(w);
			return NULL;
		}
	}
	/* never read a traced (device) mapping for it: its old value is
	 * learnt from the first write that covers it */
	if (!watch_in_traced(first, end))
		w->old_known = mem_peek(w->addr, w->shadow, (unsigned)w->len) == 0;
	return w;
}

void watch_setup(void)
{
	const struct config *c = &agent.cfg;

	if (!c->nwatches)
		return;
	if (agent.memfd < 0) {
		dprintf(2, "mmscope: cannot open /proc/self/mem; --watch ignored\n");
		return;
	}
	/* loads libgcc_s now, outside signal context (see call_chain()) */
	void *warm[2];
	agent.backtraces = !c->no_backtrace && backtrace(warm, 2) > 0;
	agent.watches = calloc(c->nwatches, sizeof(*agent.watches));
	if (!agent.watches)
		return;
	/* invasive: our requests outrank everyone's, so the arbiter models
	 * only the registers we may take (--hw-slots); the program's requests
	 * beyond them go to the kernel, which has the rest */
	arb_init(&agent.arb, c->hw_invasive ? c->hw_max : c->hw_slots, c->hw_max);
	sigset_t arb_saved;
	mlock_take(&agent.arb_lock, &arb_saved);
	for (int i = 0; i < c->nwatches; i++) {
		struct watch *w = watch_create(&c->watches[i], agent.nwatches + 1);
		if (!w)
			continue;
		agent.watches[agent.nwatches++] = w;
		uint64_t first, end;
		watch_pages(w, &first, &end);
		if (watch_hw_capable(w, c->hw_lens) && !watch_in_traced(first, end) &&
		    arb_request(&agent.arb, &w->req) >= 0) {
			watch_settle();
			if (w->hw_armed)
				continue;
		} else if (agent.cfg.verbose && watch_hw_capable(w, c->hw_lens)) {
			pr_info("watch %u (%s): every debug register mmscope may use is taken "
				"(--hw-slots=%d): pages",
				w->id, w->expr, c->hw_max);
		}
		if (!w->pages_armed)
			watch_pages_arm(w);
		watch_set_mech(w, MMS_WM_PAGE);
	}
	mlock_give(&agent.arb_lock, &arb_saved);
}

void watch_after_fork(void)
{
	agent.watch_owner = 0;
	agent.watch_depth = 0;
	my_tid = 0;
	/* the child is not debugged: its pages go back to it */
	watch_debugger_after_fork();
	/* breakpoints are not inherited by a forked process: arm its own */
	for (uint32_t i = 0; i < agent.nwatches; i++) {
		struct watch *w = agent.watches[i];
		if (!w->hw_armed)
			continue;
		hw_disarm(w);
		if (hw_arm(w) < 0) {
			watch_pages_arm(w);
			watch_set_mech(w, MMS_WM_PAGE);
		}
	}
}

/* The program unmapped or moved [lo, hi): watches with bytes there are
 * gone with their memory (docs/watch.md); say so in the trace. */
void watch_on_unmapped(uint64_t lo, uint64_t hi)
{
	for (uint32_t i = 0; i < watch_count(); i++) {
		struct watch *w = watch_at(i);
		if (!w || w->mech == MMS_WM_NONE || w->addr >= hi || w->addr + w->len <= lo)
			continue;
		watch_set_mech(w, MMS_WM_NONE);
	}
}

long watch_describe(char *out, size_t cap, bool json)
{
	static const char *const types[] = { "", "read", "write", "access" };
	static const char *const mechs[] = { "none", "hw", "page" };
	long o = snprintf(out, cap,
			  json ? "[" : "id   type    mech  address            len  what\n");
	bool first = true;

	for (uint32_t i = 0; i < watch_count() && (size_t)o < cap; i++) {
		struct watch *w = watch_at(i);
		char line[CONFIG_EXPR_MAX + 256];
		const char *type = w && w->type < 4 ? types[w->type] : "?",
			   *mech = w && w->mech < 3 ? mechs[w->mech] : "?";
		int n;
		if (!w)
			continue;
		if (json) {
			/* a --watch expression is the user's: keep JSON whole */
			char what[CONFIG_EXPR_MAX];
			fmt_json_safe(what, sizeof(what), w->expr);
			n = snprintf(
				line, sizeof(line),
				"%s{\"id\":%u,\"type\":\"%s\",\"mech\":\"%s\",\"addr\":\"0x%llx\","
				"\"len\":%llu,\"what\":\"%s\"}",
				first ? "" : ",", w->id, type, mech, (unsigned long long)w->addr,
				(unsigned long long)w->len, what);
		} else {
			n = snprintf(line, sizeof(line), "w%-3u %-7s %-5s 0x%016llx %-4llu %s\n",
				     w->id, type, mech, (unsigned long long)w->addr,
				     (unsigned long long)w->len, w->expr ? w->expr : "");
		}
		if (n < 0 || (size_t)o + (size_t)n + 2 >= cap)
			break;
		memcpy(out + o, line, (size_t)n + 1);
		o += n;
		first = false;
	}
	if (json && (size_t)o + 2 < cap)
		o += snprintf(out + o, cap - (size_t)o, "]");
	return o;
}
