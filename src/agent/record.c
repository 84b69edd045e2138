/* SPDX-License-Identifier: MIT */
/* Building every record the agent writes (see record.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/record.h"
#include "agent/shadow.h"
#include "mmscope/trace-format.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/sys.h"

/* Data bytes a string run record reserves at most: long REP runs become
 * several records of this size. */
#define RUN_DATA_MAX 4096u

/* signal context */
uint64_t rec_next_seq(void)
{
	return __atomic_fetch_add(&agent.page->seq, 1, __ATOMIC_RELAXED);
}

/* signal context (clock_gettime is async-signal-safe, vDSO) */
uint64_t rec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * signal context: room for one record, or NULL (the stream counts it as
 * lost).  The first failure of each stream goes to agent.log and
 * stderr's log once, saying why: "disk full" is the usual reason.
 */
static void *reserve(struct thread_state *t, size_t size)
{
	void *p = stream_reserve(&t->stream, size);
	char msg[160];
	size_t pos = 0;

	if (p || t->stream_failed)
		return p;
	t->stream_failed = true;
	fmt_str(msg, sizeof(msg), &pos, "mmscope-agent: trace stream of thread ");
	fmt_u64(msg, sizeof(msg), &pos, (uint64_t)t->tid);
	if (t->stream.err == -ENOSPC || t->stream.err == -EDQUOT)
		fmt_str(msg, sizeof(msg), &pos, ": disk full");
	else {
		fmt_str(msg, sizeof(msg), &pos, ": cannot grow, errno ");
		fmt_u64(msg, sizeof(msg), &pos, (uint64_t)-t->stream.err);
	}
	fmt_str(msg, sizeof(msg), &pos,
		"; records are lost from here on and counted in LOST "
		"records (retrying with backoff)\n");
	log_raw(msg);
	return NULL;
}

/* ---- ACCESS, coalesced ---- */

/* The access path runs for the hot sites' fast path, which has saved
 * no vector register (hot-fast.c): so no C library string function
 * here, whose small copies use them.  A few bytes, one at a time. */
static void bytes_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}

static bool bytes_same(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static size_t access_size(const struct mms_rec_access *r)
{
	return r->h.size;
}

/* signal context: drop open runs that are no longer the last records of
 * the stream (something else was written, or the window moved) */
static void runs_check(struct thread_state *t)
{
	struct stream *s = &t->stream;
	uint64_t end = s->pos;

	for (int i = t->nruns - 1; i >= 0; i--) {
		struct rec_run *run = &t->runs[i];
		if (run->gen != s->win_gen || run->off + access_size(run->r) != end) {
			t->nruns = 0;
			return;
		}
		end = run->off;
	}
}

static uint32_t run_count(const struct rec_run *run)
{
	return run->r->h.count ? run->r->h.count : 1;
}

static bool same_value(const struct mms_rec_access *r, const struct emu_access *a, uint16_t flags)
{
	if (flags & MMS_AF_VALUE_UNKNOWN)
		return true;
	return bytes_same(r->value, a->value, a->width);
}

/* signal context: a repeat of the open single access?  The record it
 * joined, or NULL. */
static const struct mms_rec_access *merge_repeat(struct thread_state *t, uint64_t pc,
						 const struct emu_access *a, uint16_t flags)
{
	struct rec_run *run = &t->runs[0];
	struct mms_rec_access *r = run->r;
	uint32_t n;

	if (t->nruns != 1 || (r->flags & MMS_AF_STRING) || r->pc != pc || r->addr != a->addr ||
	    r->width != a->width || r->dir != a->dir || r->flags != flags ||
	    r->region != a->region || r->mask != a->mask || !same_value(r, a, flags))
		return NULL;
	n = run_count(run);
	if (n == UINT32_MAX)
		return NULL;
	r->last_ts_ns = rec_now();
	stream_republish(r, MMS_REC_ACCESS, r->h.size, n + 1);
	return r;
}

/* signal context: the next element of the open run? */
static bool run_takes(const struct rec_run *run, uint64_t pc, const struct emu_access *a,
		      uint16_t flags, bool *down)
{
	const struct mms_rec_access *r = run->r;
	uint32_t n = run_count(run);
	uint64_t step = (uint64_t)n * a->width;

	if (!(r->flags & MMS_AF_STRING) || r->pc != pc || r->width != a->width ||
	    r->dir != a->dir || r->region != a->region || n >= run->cap ||
	    (r->flags & ~(MMS_AF_PAIRED | MMS_AF_DOWN)) != flags)
		return false;
	if (n == 1) {
		*down = a->addr == r->addr - a->width;
		return a->addr == r->addr + a->width || *down;
	}
	*down = r->flags & MMS_AF_DOWN;
	return a->addr == (*down ? r->addr - step : r->addr + step);
}

static const struct mms_rec_access *run_append(struct rec_run *run, const struct emu_access *a,
					       bool down)
{
	struct mms_rec_access *r = run->r;
	uint32_t n = run_count(run);

	if (a->value)
		bytes_copy(r->value + (size_t)n * a->width, a->value, a->width);
	if (down)
		r->flags |= MMS_AF_DOWN;
	r->last_ts_ns = rec_now();
	stream_republish(r, MMS_REC_ACCESS, r->h.size, n + 1);
	return r;
}

/* signal context: an element of a string run already open?  A MOVS/CMPS
 * pair alternates: the first run takes an element when both have the
 * same count, the second when it is one behind.  The record it joined,
 * or NULL. */
static const struct mms_rec_access *merge_string(struct thread_state *t, uint64_t pc,
						 const struct emu_access *a, uint16_t flags)
{
	bool down;

	if (t->nruns == 1 && run_takes(&t->runs[0], pc, a, flags, &down))
		return run_append(&t->runs[0], a, down);
	if (t->nruns != 2)
		return NULL;
	uint32_t n0 = run_count(&t->runs[0]), n1 = run_count(&t->runs[1]);
	if (n0 == n1 && run_takes(&t->runs[0], pc, a, flags, &down))
		return run_append(&t->runs[0], a, down);
	if (n1 + 1 == n0 && run_takes(&t->runs[1], pc, a, flags, &down))
		return run_append(&t->runs[1], a, down);
	return NULL;
}

/* signal context: a device's shadow register file learns the access */
static void seen(const struct emu_access *a, uint64_t seq)
{
	if (a->rflags & REGION_DEVICE)
		shadow_note(a, seq);
}

/* signal context */
void rec_access(struct thread_state *t, uint64_t pc, const uint8_t *insn, unsigned insn_len,
		const struct emu_access *a)
{
	uint16_t flags = a->flags | (a->value ? 0 : MMS_AF_VALUE_UNKNOWN);
	bool string = flags & MMS_AF_STRING;
	uint32_t cap = 1;
	struct mms_rec_access *r;
	size_t size;

	if (!t || __atomic_load_n(&agent.trace_paused, __ATOMIC_RELAXED)) {
		if (t) /* counted, and the trace says how many (rec_trace_pause) */
			__atomic_add_fetch(&agent.paused_accesses, 1, __ATOMIC_RELAXED);
		seen(a, 0);
		return;
	}
	runs_check(t);
	const struct mms_rec_access *joined =
		string ? merge_string(t, pc, a, flags) : merge_repeat(t, pc, a, flags);
	if (joined) {
		seen(a, joined->seq);
		return;
	}
	if (string && a->width) {
		uint32_t max = RUN_DATA_MAX / a->width;
		cap = a->run_left < 1 ? 1 : a->run_left > max ? max : a->run_left;
	}
	size = sizeof(*r) + MMS_PAD8((size_t)cap * a->width);
	r = reserve(t, size);
	if (!r) {
		t->nruns = 0;
		seen(a, 0);
		return;
	}
	/* reserving may have moved the window: open runs then point into
	 * the old one, which is gone */
	runs_check(t);
	r->seq = rec_next_seq();
	r->ts_ns = rec_now();
	r->last_ts_ns = r->ts_ns;
	r->pc = pc;
	r->addr = a->addr;
	r->offset = a->offset;
	r->region = a->region;
	r->width = a->width;
	r->dir = a->dir;
	r->flags = flags;
	r->mask = a->mask;
	r->insn_len = (uint8_t)(insn_len > sizeof(r->insn) ? sizeof(r->insn) : insn_len);
	bytes_copy(r->insn, insn, r->insn_len);
	if (a->value)
		bytes_copy(r->value, a->value, a->width);
	seen(a, r->seq);

	/* the second half of a MOVS/CMPS pair starts right after the
	 * first's first element */
	struct rec_run *prev = t->nruns == 1 ? &t->runs[0] : NULL;
	bool pair = string && prev && (prev->r->flags & MMS_AF_STRING) && prev->r->pc == pc &&
		    run_count(prev) == 1 && !(prev->r->flags & MMS_AF_PAIRED);
	if (pair)
		prev->r->flags |= MMS_AF_PAIRED;
	else
		t->nruns = 0;
	t->runs[t->nruns++] = (struct rec_run){
		.r = r,
		.off = t->stream.pos,
		.gen = t->stream.win_gen,
		.cap = cap,
	};
	stream_commit(&t->stream, r, MMS_REC_ACCESS, size);
}

/* ---- the other records ---- */

/* Records made outside the fault path: every signal waits meanwhile. */
static struct thread_state *begin(sigset_t *old)
{
	signals_block_all(old);
	return thread_get();
}

static void end(const sigset_t *old)
{
	signals_restore(old);
}

void rec_map(const struct region *r, const char *path, uint64_t pc, uint32_t flags)
{
	size_t plen = strlen(path) + 1, size = MMS_PAD8(sizeof(struct mms_rec_map) + plen);
	struct mms_rec_map *m;
	struct thread_state *t;
	sigset_t old;

	if (size > 65528)
		return;
	t = begin(&old);
	if (t && (m = reserve(t, size))) {
		m->seq = rec_next_seq();
		m->ts_ns = rec_now();
		m->pc = pc;
		/* offsets in access records count from base, also for a region
		 * that was trimmed since (a fork child re-announcing one) */
		m->addr = r->base ? r->base : r->start;
		m->len = r->end - m->addr;
		m->file_offset = r->file_offset - (r->start - m->addr);
		m->region = r->id;
		m->prot = r->prot;
		m->mmap_flags = r->mmap_flags;
		m->flags = flags;
		memcpy(m->path, path, plen);
		stream_commit(&t->stream, m, MMS_REC_MAP, size);
	}
	end(&old);
}

void rec_unmap(const struct region *r, uint64_t pc)
{
	struct mms_rec_unmap *u;
	struct thread_state *t;
	sigset_t old;

	t = begin(&old);
	if (t && (u = reserve(t, sizeof(*u)))) {
		u->seq = rec_next_seq();
		u->ts_ns = rec_now();
		u->pc = pc;
		u->addr = r->start;
		u->len = r->end - r->start;
		u->region = r->id;
		stream_commit(&t->stream, u, MMS_REC_UNMAP, sizeof(*u));
	}
	end(&old);
}

/* Reserve a record of fixed part fixed + NUL-terminated text (cut at
 * 4 KiB) and copy the text to its end.  NULL if there is no room. */
static void *reserve_with_text(struct thread_state *t, size_t fixed, const char *text, size_t *size)
{
	size_t tlen = strlen(text);
	uint8_t *rec;

	if (tlen > 4095)
		tlen = 4095;
	*size = MMS_PAD8(fixed + tlen + 1);
	rec = reserve(t, *size);
	if (rec)
		memcpy(rec + fixed, text, tlen);
	return rec;
}

void rec_proc(uint32_t event, int64_t arg, const char *text)
{
	struct mms_rec_proc *p;
	struct thread_state *t;
	size_t size;
	sigset_t old;

	t = begin(&old);
	if (t && (p = reserve_with_text(t, sizeof(*p), text, &size))) {
		p->seq = rec_next_seq();
		p->ts_ns = rec_now();
		p->event = event;
		p->pid = agent.pid;
		p->arg = arg;
		stream_commit(&t->stream, p, MMS_REC_PROC, size);
	}
	end(&old);
}

void rec_untraced(uint64_t addr, const char *text)
{
	char line[1200]; /* signal context: the program's stack */
	size_t pos = 0;

	rec_proc(MMS_PROC_UNTRACED, (int64_t)addr, text);
	if (agent.page)
		__atomic_add_fetch(&agent.page->untraced, 1, __ATOMIC_RELAXED);
	fmt_str(line, sizeof(line), &pos, "mmscope-agent: untraced: ");
	fmt_str(line, sizeof(line), &pos, text);
	fmt_str(line, sizeof(line), &pos, "\n");
	log_raw(line);
}

void rec_mark(const char *text)
{
	struct mms_rec_mark *m;
	struct thread_state *t;
	size_t size;
	sigset_t old;

	t = begin(&old);
	if (t && (m = reserve_with_text(t, sizeof(*m), text, &size))) {
		m->seq = rec_next_seq();
		m->ts_ns = rec_now();
		stream_commit(&t->stream, m, MMS_REC_MARK, size);
	}
	end(&old);
}

void rec_watch(const struct watch *w)
{
	size_t elen = strlen(w->expr) + 1, size = MMS_PAD8(sizeof(struct mms_rec_watch) + elen);
	struct mms_rec_watch *r;
	struct thread_state *t;
	sigset_t old;

	t = begin(&old);
	if (t && (r = reserve(t, size))) {
		r->seq = rec_next_seq();
		r->ts_ns = rec_now();
		r->addr = w->addr;
		r->len = w->len;
		r->id = w->id;
		r->type = w->type;
		r->mech = w->mech;
		memcpy(r->expr, w->expr, elen);
		stream_commit(&t->stream, r, MMS_REC_WATCH, size);
	}
	end(&old);
}

/* signal context */
void rec_hit(struct thread_state *t, const struct watch *w, uint64_t pc, uint64_t addr,
	     unsigned width, int dir, uint16_t flags, const uint8_t *old, const uint8_t *new,
	     const uint64_t *frames, int nframes)
{
	size_t vpad = MMS_PAD8(width), size;
	struct mms_rec_hit *h;

	size = sizeof(struct mms_rec_hit) + 2 * vpad + 8 * (size_t)nframes;
	if (!t || width < 1 || width > 64 || !(h = reserve(t, size)))
		return;
	h->seq = rec_next_seq();
	h->ts_ns = rec_now();
	h->pc = pc;
	h->addr = addr;
	h->watch = w->id;
	h->dir = (uint8_t)dir;
	h->width = (uint8_t)width;
	h->flags = flags;
	h->nframes = (uint16_t)nframes;
	if (old)
		memcpy(h->data, old, width);
	if (new)
		memcpy(h->data + vpad, new, width);
	memcpy(h->data + 2 * vpad, frames, 8 * (size_t)nframes);
	stream_commit(&t->stream, h, MMS_REC_HIT, size);
}

/* The marker API (include/mmscope/mmscope.h) resolves to this. */
MMS_EXPORT void mmscope_agent_mark(const char *text)
{
	if (agent.active && text)
		rec_mark(text);
}

void rec_trace_pause(bool off)
{
	char msg[160];

	if (off == (bool)__atomic_load_n(&agent.trace_paused, __ATOMIC_ACQUIRE))
		return;
	if (off) {
		rec_proc(MMS_PROC_NOTE, 0,
			 "trace off (the debugger): accesses are not recorded until trace on");
		__atomic_store_n(&agent.paused_accesses, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&agent.trace_paused, 1, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&agent.trace_paused, 0, __ATOMIC_RELEASE);
	snprintf(msg, sizeof(msg), "trace on (the debugger): %llu accesses were not recorded",
		 (unsigned long long)__atomic_load_n(&agent.paused_accesses, __ATOMIC_ACQUIRE));
	rec_proc(MMS_PROC_NOTE, (int64_t)agent.paused_accesses, msg);
}
