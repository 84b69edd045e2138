/* SPDX-License-Identifier: MIT */
/*
 * The debugger's watches (gdb's Z2/Z3/Z4, docs/debugging.md), on the page
 * mechanism of watch.c, hits recorded and reported like any watch's.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/debugsock.h"
#include "agent/mem.h"
#include "agent/watch-internal.h"
#include "mmscope/trace-format.h"
#include "util/lock.h"

/* The debugger's watches (Z2/Z3/Z4): pages only for now, in a static
 * pool because they are set while the program is stopped, when a parked
 * thread may hold malloc's lock.  A slot keeps its id while gdb removes
 * and inserts the same watch around every stop. */
#define DBG_WATCH_MAX 256
#define DBG_WATCH_LEN DEBUG_WATCH_LEN_MAX
static struct dbg_watch {
	struct watch w;
	uint8_t shadow[DBG_WATCH_LEN];
	char expr[64];
	bool used;    /* armed for the debugger now */
	bool leaving; /* removed, its pages still armed until the program
			 runs again (gdb removes every watch at a stop and
			 inserts it again before it resumes) */
	bool made;    /* w describes a watch (armed or not) */
	int owner;    /* the session: 0 gdb's, else a ctl session's id */
} dws[DBG_WATCH_MAX];

/* slots of dws[] ever described: the loops of the fault path stop there */
static uint32_t dws_made;

struct watch *watch_debugger_at(uint32_t i)
{
	return i < DBG_WATCH_MAX && __atomic_load_n(&dws[i].used, __ATOMIC_ACQUIRE) ? &dws[i].w
										    : NULL;
}

uint32_t watch_debugger_made(void)
{
	return __atomic_load_n(&dws_made, __ATOMIC_ACQUIRE);
}

bool watch_is_debuggers(const struct watch *w)
{
	return (const void *)w >= (const void *)dws &&
	       (const void *)w < (const void *)(dws + DBG_WATCH_MAX);
}

void watch_debugger_after_fork(void)
{
	for (int i = 0; i < DBG_WATCH_MAX; i++)
		if (dws[i].used || dws[i].leaving) {
			dws[i].used = dws[i].leaving = false;
			watch_pages_disarm(&dws[i].w);
		}
}

static int dbg_watch_check(uint64_t addr, uint64_t len)
{
	uint64_t first = addr & ~(WATCH_PAGE - 1),
		 end = (addr + len + WATCH_PAGE - 1) & ~(WATCH_PAGE - 1);

	if (!len || len > DBG_WATCH_LEN || addr + len < addr)
		return -EINVAL;
	if (agent.memfd < 0)
		return -EOPNOTSUPP;
	for (uint64_t p = first; p < end; p += WATCH_PAGE) {
		bool private;
		int prot = watch_page_prot(p, &private);
		if (prot < 0)
			return -EFAULT;
		/* code runs from it; a stack takes the fault's signal frame */
		if ((prot & PROT_EXEC) || debug_is_stack(p, p + WATCH_PAGE))
			return -EPERM;
	}
	return 0;
}

int watch_debugger_set(int owner, bool insert, int type, uint64_t addr, uint64_t len,
		       const char *expr)
{
	struct dbg_watch *d = NULL, *spare = NULL;
	static unsigned reuse;
	sigset_t saved;
	int r;

	for (int i = 0; i < DBG_WATCH_MAX && !d; i++) {
		struct dbg_watch *c = &dws[i];
		if (c->made && c->owner == owner && c->w.type == type && c->w.addr == addr &&
		    c->w.len == len)
			d = c;
		else if (!c->made && !spare)
			spare = c;
	}
	if (!insert) {
		if (d && d->used) {
			__atomic_store_n(&d->used, false, __ATOMIC_RELEASE);
			d->leaving = true; /* watch_debugger_commit() disarms */
		}
		return 0; /* gdb removes what a closed session already removed */
	}
	if (d && d->used)
		return 0;
	if (d && d->leaving) { /* back before the program ran: nothing changed */
		d->leaving = false;
		__atomic_store_n(&d->used, true, __ATOMIC_RELEASE);
		return 0;
	}
	if ((r = dbg_watch_check(addr, len)) < 0)
		return r;
	if (!d) {
		/* a new watch; past 256 of them the oldest unused slot is
		 * described again (its WATCH record says so) */
		for (int k = 0; !spare && k < DBG_WATCH_MAX; k++) {
			struct dbg_watch *c = &dws[reuse++ % DBG_WATCH_MAX];
			if (!c->used && !c->leaving)
				spare = c;
		}
		if (!spare)
			return -ENOSPC;
		d = spare;
		d->w = (struct watch){ .id = agent.nwatches + 1 + (uint32_t)(d - dws),
				       .type = (uint8_t)type,
				       .addr = addr,
				       .len = len,
				       .shadow = d->shadow,
				       .expr = d->expr };
		if (expr)
			snprintf(d->expr, sizeof(d->expr), "%s", expr);
		else
			snprintf(d->expr, sizeof(d->expr), "gdb %s 0x%llx,%llu",
				 type == MMS_WATCH_WRITE  ? "watch"
				 : type == MMS_WATCH_READ ? "rwatch"
							  : "awatch",
				 (unsigned long long)addr, (unsigned long long)len);
		d->owner = owner;
		d->made = true;
		if ((uint32_t)(d - dws) >= dws_made)
			__atomic_store_n(&dws_made, (uint32_t)(d - dws) + 1, __ATOMIC_RELEASE);
	}
	/* never read a traced (device) mapping for it: the old value comes
	 * from the first write that covers it */
	uint64_t first, end;
	watch_pages(&d->w, &first, &end);
	d->w.old_known =
		!watch_in_traced(first, end) && mem_peek(addr, d->shadow, (unsigned)len) == 0;
	mlock_take(&agent.arb_lock, &saved);
	watch_pages_arm(&d->w);
	watch_set_mech(&d->w, MMS_WM_PAGE);
	__atomic_store_n(&d->used, true, __ATOMIC_RELEASE);
	mlock_give(&agent.arb_lock, &saved);
	return 0;
}

static void disarm(struct dbg_watch *d)
{
	sigset_t saved;

	mlock_take(&agent.arb_lock, &saved);
	__atomic_store_n(&d->used, false, __ATOMIC_RELEASE);
	d->leaving = false;
	watch_pages_disarm(&d->w);
	watch_set_mech(&d->w, MMS_WM_NONE);
	mlock_give(&agent.arb_lock, &saved);
}

void watch_debugger_commit(void)
{
	for (uint32_t i = 0; i < dws_made; i++)
		if (dws[i].leaving)
			disarm(&dws[i]);
}

void watch_debugger_clear(int owner)
{
	for (uint32_t i = 0; i < dws_made; i++)
		if ((dws[i].used || dws[i].leaving) && dws[i].owner == owner)
			disarm(&dws[i]);
}

bool watch_stops_debugger(const struct watch *w)
{
	return watch_is_debuggers(w) && ((const struct dbg_watch *)w)->owner == 0;
}
