/* SPDX-License-Identifier: MIT */
/*
 * Shadows of device regions (shadow.h).  Each one is an anonymous
 * MAP_NORESERVE mapping: only the pages of registers the program touched
 * take memory.  A dropped shadow's slot keeps its mapping (its pages
 * given back) and serves the next device region that fits, so a thread
 * still noting an access to a region another thread just unmapped writes
 * into memory that exists.
 */
#define LOG_DOMAIN "shadow"
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/shadow.h"
#include "util/log.h"
#include "util/sys.h"

static struct slot {
	uint32_t id; /* 0: free */
	size_t map_len;
	void *mem;
	struct shadow s;
} slots[SHADOW_MAX];
static bool warned;

static struct slot *find(uint32_t id)
{
	for (int i = 0; i < SHADOW_MAX; i++)
		if (__atomic_load_n(&slots[i].id, __ATOMIC_ACQUIRE) == id)
			return &slots[i];
	return NULL;
}

const struct shadow *shadow_of(uint32_t id)
{
	struct slot *s = id ? find(id) : NULL;

	return s ? &s->s : NULL;
}

void shadow_note(const struct emu_access *a, uint64_t seq)
{
	struct slot *s = a->region ? find(a->region) : NULL;

	if (s)
		shadow_apply(&s->s, a->offset, a->width, a->dir, a->flags, a->mask, a->value, seq);
}

void shadow_track(const struct region *r)
{
	uint64_t len = r->end - r->base;
	size_t need = (shadow_size(len) + 4095) & ~(size_t)4095;
	struct slot *pick = NULL;

	if (find(r->id))
		return;
	/* a dropped slot big enough, else an empty one, else a dropped one
	 * remapped */
	for (int i = 0; i < SHADOW_MAX && !pick; i++)
		if (!slots[i].id && slots[i].mem && slots[i].map_len >= need)
			pick = &slots[i];
	for (int i = 0; i < SHADOW_MAX && !pick; i++)
		if (!slots[i].id && !slots[i].mem)
			pick = &slots[i];
	for (int i = 0; i < SHADOW_MAX && !pick; i++)
		if (!slots[i].id) {
			pick = &slots[i];
			sys_munmap(pick->mem, pick->map_len);
			pick->mem = NULL;
		}
	if (pick && !pick->mem) {
		void *m = sys_mmap(NULL, need, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (sys_mmap_failed(m)) {
			pick = NULL;
		} else {
			pick->mem = m;
			pick->map_len = need;
		}
	}
	if (!pick) {
		if (!warned)
			log_raw("mmscope-agent: no shadow register file for a device region (too "
				"many, or out of memory): the debugger cannot show it without "
				"device-reads live\n");
		warned = true;
		return;
	}
	shadow_init(&pick->s, pick->mem, len);
	__atomic_store_n(&pick->id, r->id, __ATOMIC_RELEASE);
}

static bool present(const struct region_table *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->count; i++)
		if (t->r[i].id == id)
			return true;
	return false;
}

void shadow_prune(const struct region_table *t)
{
	for (int i = 0; i < SHADOW_MAX; i++) {
		struct slot *s = &slots[i];
		if (!s->id || present(t, s->id))
			continue;
		__atomic_store_n(&s->id, 0, __ATOMIC_RELEASE);
		/* zero again, and the memory goes back */
		sys_call3(SYS_madvise, (long)s->mem, (long)s->map_len, MADV_DONTNEED);
	}
}
