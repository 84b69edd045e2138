/* SPDX-License-Identifier: MIT */
/* The armed-region table (see region.h). */
#include <errno.h>
#include <string.h>

#include "engine/region.h"

static uint32_t seq_read_begin(const struct region_table *t)
{
	uint32_t s;

	while ((s = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE)) & 1)
		__builtin_ia32_pause();
	return s;
}

static int seq_read_retry(const struct region_table *t, uint32_t s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&t->seq, __ATOMIC_RELAXED) != s;
}

/* Index of the first region with end > addr. */
static uint32_t lower_bound(const struct region_table *t, uint64_t addr)
{
	uint32_t lo = 0, hi = t->count;

	if (hi > REGION_MAX)
		hi = REGION_MAX;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (t->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* signal context */
int region_find(const struct region_table *t, uint64_t addr, struct region *out)
{
	uint32_t s, i;
	int found;

	do {
		s = seq_read_begin(t);
		i = lower_bound(t, addr);
		found = i < t->count && i < REGION_MAX && t->r[i].start <= addr;
		if (found)
			*out = t->r[i];
	} while (seq_read_retry(t, s));
	return found ? 0 : -ENOENT;
}

/* signal context */
uint64_t region_next_start(const struct region_table *t, uint64_t addr)
{
	uint32_t s, i;
	uint64_t next;

	do {
		s = seq_read_begin(t);
		i = lower_bound(t, addr);
		next = (i < t->count && i < REGION_MAX) ? t->r[i].start : UINT64_MAX;
	} while (seq_read_retry(t, s));
	return next;
}

void region_write_begin(struct region_table *t)
{
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void region_write_end(struct region_table *t)
{
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELEASE);
}

int region_add(struct region_table *t, struct region *r)
{
	uint32_t i;

	if (t->count >= REGION_MAX)
		return -ENOSPC;
	i = lower_bound(t, r->start);
	if (i < t->count && t->r[i].start < r->end)
		return -EEXIST;
	if (!r->id)
		r->id = ++t->next_id;
	if (!r->base)
		r->base = r->start;
	memmove(&t->r[i + 1], &t->r[i], (t->count - i) * sizeof(t->r[0]));
	t->r[i] = *r;
	t->count++;
	return 0;
}

int region_cut(struct region_table *t, uint64_t start, uint64_t end,
	       void (*cb)(void *arg, const struct region *piece), void *arg)
{
	uint32_t i = lower_bound(t, start);

	while (i < t->count && t->r[i].start < end) {
		struct region *r = &t->r[i];
		struct region piece = *r;
		uint64_t lo = r->start > start ? r->start : start;
		uint64_t hi = r->end < end ? r->end : end;

		piece.alias = r->alias ? r->alias + (lo - r->start) : NULL;
		piece.file_offset = r->file_offset + (lo - r->start);
		piece.start = lo;
		piece.end = hi;
		if (cb)
			cb(arg, &piece);
		if (lo > r->start && hi < r->end) {
			/* hole in the middle: split in two */
			struct region tail = *r;
			if (t->count >= REGION_MAX)
				return -ENOSPC;
			tail.alias = r->alias ? r->alias + (hi - r->start) : NULL;
			tail.file_offset = r->file_offset + (hi - r->start);
			tail.start = hi;
			r->end = lo;
			memmove(&t->r[i + 2], &t->r[i + 1], (t->count - i - 1) * sizeof(t->r[0]));
			t->r[i + 1] = tail;
			t->count++;
			return 0;
		} else if (lo > r->start) {
			r->end = lo;
			i++;
		} else if (hi < r->end) {
			if (r->alias)
				r->alias += hi - r->start;
			r->file_offset += hi - r->start;
			r->start = hi;
			i++;
		} else {
			memmove(&t->r[i], &t->r[i + 1], (t->count - i - 1) * sizeof(t->r[0]));
			t->count--;
		}
	}
	return 0;
}

struct region *region_get_mut(struct region_table *t, uint64_t addr)
{
	uint32_t i = lower_bound(t, addr);

	if (i < t->count && t->r[i].start <= addr && addr < t->r[i].end)
		return &t->r[i];
	return NULL;
}

int region_overlaps(const struct region_table *t, uint64_t start, uint64_t end, struct region *out,
		    int max)
{
	uint32_t s, i;
	int n;

	do {
		s = seq_read_begin(t);
		n = 0;
		for (i = lower_bound(t, start);
		     i < t->count && i < REGION_MAX && t->r[i].start < end && n < max; i++)
			out[n++] = t->r[i];
	} while (seq_read_retry(t, s));
	return n;
}

int region_overlaps_locked(const struct region_table *t, uint64_t start, uint64_t end,
			   struct region *out, int max)
{
	int n = 0;

	for (uint32_t i = lower_bound(t, start); i < t->count && t->r[i].start < end && n < max;
	     i++)
		out[n++] = t->r[i];
	return n;
}
