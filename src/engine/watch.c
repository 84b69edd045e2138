/* SPDX-License-Identifier: MIT */
#include "engine/watch.h"
#include "mmscope/trace-format.h"

/* signal context */
bool watch_hits(const struct watch *w, uint64_t addr, uint64_t len, int dir, uint64_t *lo,
		uint64_t *hi)
{
	uint64_t a = addr > w->addr ? addr : w->addr;
	uint64_t b = addr + len < w->addr + w->len ? addr + len : w->addr + w->len;

	if (a >= b)
		return false;
	if (dir == MMS_DIR_READ && !(w->type & MMS_WATCH_READ))
		return false;
	if (dir == MMS_DIR_WRITE && !(w->type & MMS_WATCH_WRITE))
		return false;
	*lo = a;
	*hi = b;
	return true;
}

bool watch_hw_capable(const struct watch *w, unsigned lens)
{
	if (w->type == MMS_WATCH_READ)
		return false; /* x86 has no read-only data breakpoint */
	if (w->len != 1 && w->len != 2 && w->len != 4 && w->len != 8)
		return false;
	if (w->addr & (w->len - 1))
		return false;
	return lens & (unsigned)w->len;
}

void watch_pages(const struct watch *w, uint64_t *first, uint64_t *end)
{
	*first = w->addr & ~(WATCH_PAGE - 1);
	*end = (w->addr + w->len + WATCH_PAGE - 1) & ~(WATCH_PAGE - 1);
}

bool watch_needs_reads(const struct watch *w)
{
	return w->type & MMS_WATCH_READ;
}
