/* SPDX-License-Identifier: MIT */
/*
 * Stub memory for hot sites (see hot-internal.h): chunks of HOT_CHUNK
 * bytes mapped read and execute only within reach of a jmp rel32 from
 * their sites (±2 GiB; for a punned jump, the window its fixed bytes
 * decide), cut into HOT_SLOT-byte slots, one per site.  Chunks are never
 * unmapped: a thread may be inside a stub whenever it is not stopped.
 */
#include <string.h>
#include <sys/mman.h>

#include "agent/hot-internal.h"
#include "agent/hot.h"
#include "util/sys.h"

#define HOT_CHUNK (64u << 10)
#define CHUNKS_MAX 256
#define CHUNK_SLOTS (HOT_CHUNK / HOT_SLOT)

struct chunk {
	uint64_t base;		    /* HOT_CHUNK-aligned */
	uint32_t used;		    /* slots taken */
	uint16_t site[CHUNK_SLOTS]; /* per slot: site index + 1, 0 if free */
};

static struct chunk chunks[CHUNKS_MAX];
static uint32_t nchunks;
static uint64_t stubs_lo = UINT64_MAX, stubs_hi; /* chunk span, for quick tests */

bool hot_reach(uint64_t from, uint64_t to)
{
	int64_t d = (int64_t)(to - from);

	return d > INT32_MIN + (int64_t)HOT_CHUNK && d < INT32_MAX - (int64_t)HOT_CHUNK;
}

/* our chunk at base, mapped now if the address space is free there */
static struct chunk *chunk_at(uint64_t base)
{
	struct chunk *c;
	void *p;

	for (uint32_t i = 0; i < nchunks; i++)
		if (chunks[i].base == base)
			return &chunks[i];
	if (nchunks == CHUNKS_MAX || base < (1ull << 20) || base > (1ull << 47) - HOT_CHUNK)
		return NULL;
	p = sys_mmap((void *)base, HOT_CHUNK, PROT_READ | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (sys_mmap_failed(p))
		return NULL;
	if ((uint64_t)p != base) { /* a kernel before 4.17: only a hint */
		sys_munmap(p, HOT_CHUNK);
		return NULL;
	}
	c = &chunks[nchunks];
	memset(c, 0, sizeof(*c));
	c->base = base;
	if (c->base < stubs_lo)
		stubs_lo = c->base;
	if (c->base + HOT_CHUNK > stubs_hi)
		stubs_hi = c->base + HOT_CHUNK;
	__atomic_store_n(&nchunks, nchunks + 1, __ATOMIC_RELEASE);
	return c;
}

/* a free slot of c that starts in [lo, hi), or -1 */
static int slot_in(const struct chunk *c, uint64_t lo, uint64_t hi)
{
	for (unsigned k = 0; k < CHUNK_SLOTS; k++) {
		uint64_t at = c->base + (uint64_t)k * HOT_SLOT;
		if (at >= lo && at < hi && !c->site[k])
			return (int)k;
	}
	return -1;
}

/* A free slot starting in [lo, hi), in a chunk of ours or in one mapped
 * there now: its chunk in *cp, its index returned, or -1. */
static int slot_where(uint64_t lo, uint64_t hi, struct chunk **cp)
{
	uint64_t first = lo & ~(uint64_t)(HOT_CHUNK - 1);
	int k;

	for (uint32_t i = 0; i < nchunks; i++)
		if ((k = slot_in(&chunks[i], lo, hi)) >= 0) {
			*cp = &chunks[i];
			return k;
		}
	/* a new chunk: a few places spread over the span */
	uint64_t span = hi - first, step = span / 8 > HOT_CHUNK ? span / 8 : HOT_CHUNK;
	for (uint64_t base = first; base < hi && base - first < 8 * step; base += step) {
		base &= ~(uint64_t)(HOT_CHUNK - 1);
		struct chunk *c = chunk_at(base);
		if (c && (k = slot_in(c, lo, hi)) >= 0) {
			*cp = c;
			return k;
		}
	}
	return -1;
}

/* a free slot within reach of a 5-byte jump at pc: its index, its
 * chunk in *cp; -1 */
static int slot_near(uint64_t pc, struct chunk **cp)
{
	int k;

	for (uint32_t i = 0; i < nchunks; i++)
		if (hot_reach(pc, chunks[i].base) &&
		    (k = slot_in(&chunks[i], 0, UINT64_MAX)) >= 0) {
			*cp = &chunks[i];
			return k;
		}
	/* below the site first (a program's text has its heap above it),
	 * then above, 64 MiB apart */
	for (int j = 1; j <= 48; j++) {
		uint64_t step = (uint64_t)((j + 1) / 2) << 26;
		uint64_t want = (pc & ~(uint64_t)(HOT_CHUNK - 1)) + (j & 1 ? -step : step);
		struct chunk *c;

		if (!hot_reach(pc, want) || !(c = chunk_at(want)))
			continue;
		if ((k = slot_in(c, 0, UINT64_MAX)) >= 0) {
			*cp = c;
			return k;
		}
	}
	return -1;
}

/*
 * A jump for an instruction shorter than 5 bytes (E9Patch's "punning",
 * PLDI 2020): e9 and the instruction's other len-1 bytes are ours, the
 * rest of the rel32 are the bytes of the instructions after it, which
 * stay as they are.  So the jump can only reach a window of
 * 2^(8*(len-1)) bytes whose place those bytes decide: a stub is found or
 * mapped there, or the site stays on the fault path.  next: the 5-len
 * bytes after the instruction.
 */
static int slot_punned(uint64_t pc, unsigned len, const uint8_t *next, struct chunk **cp)
{
	uint32_t fixed = 0;
	unsigned free_bits = 8 * (len - 1);

	for (unsigned i = 0; i < 5 - len; i++)
		fixed |= (uint32_t)next[i] << (8 * i);
	int64_t rel_lo = (int32_t)(fixed << free_bits);
	uint64_t lo = pc + 5 + (uint64_t)rel_lo, hi = lo + (1ull << free_bits);

	/* the window must not hold the site itself or wrap */
	if (hi < lo || (pc + 5 > lo && pc < hi))
		return -1;
	return slot_where(lo, hi, cp);
}

/* signal context */
struct hot_site *hot_stub_site(uint64_t pc)
{
	uint32_t n = __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE);

	if (pc < stubs_lo || pc >= stubs_hi)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const struct chunk *c = &chunks[i];
		if (pc >= c->base && pc < c->base + HOT_CHUNK) {
			uint32_t slot = (uint32_t)((pc - c->base) / HOT_SLOT);
			uint16_t site = __atomic_load_n(&c->site[slot], __ATOMIC_ACQUIRE);
			return site ? &hot_sites[site - 1] : NULL;
		}
	}
	return NULL;
}

/* signal context */
bool hot_is_stubs(uint64_t lo, uint64_t hi)
{
	uint32_t n = __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE);
	uint64_t covered = 0;

	for (uint32_t i = 0; i < n; i++)
		if (chunks[i].base >= lo && chunks[i].base + HOT_CHUNK <= hi)
			covered += HOT_CHUNK;
	return n && covered == hi - lo;
}

static uint64_t slot_addr(const struct chunk *c, int k)
{
	return k < 0 ? 0 : c->base + (uint64_t)k * HOT_SLOT;
}

uint64_t hot_slot_near(uint64_t pc)
{
	struct chunk *c = NULL;
	int k = slot_near(pc, &c);

	return slot_addr(c, k);
}

uint64_t hot_slot_punned(uint64_t pc, unsigned len, const uint8_t *next)
{
	struct chunk *c = NULL;
	int k = slot_punned(pc, len, next, &c);

	return slot_addr(c, k);
}

void hot_slot_take(uint64_t slot, uint32_t index)
{
	for (uint32_t i = 0; i < nchunks; i++) {
		struct chunk *c = &chunks[i];
		if (slot >= c->base && slot < c->base + HOT_CHUNK) {
			c->used++;
			__atomic_store_n(&c->site[(slot - c->base) / HOT_SLOT],
					 (uint16_t)(index + 1), __ATOMIC_RELEASE);
			return;
		}
	}
}
