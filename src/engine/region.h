/* SPDX-License-Identifier: MIT */
/*
 * The table of armed regions: program address ranges whose view is
 * PROT_NONE, each with a private alias of the same object that keeps the
 * real access.  Lookups run in signal context under a seqlock; updates are
 * made by one writer at a time (the caller serialises them and keeps
 * signals blocked while it writes, see region_write_begin()).
 */
#ifndef MMS_ENGINE_REGION_H
#define MMS_ENGINE_REGION_H

#include <stdbool.h>
#include <stdint.h>

#define REGION_MAX 4096

enum region_flags {
	REGION_TRACE = 1u << 0,	 /* record every access (a selected mapping) */
	REGION_WATCH = 1u << 1,	 /* holds page-mechanism watchpoints */
	REGION_DEVICE = 1u << 2, /* reads have side effects (a device, PCI
				    resource or --device mapping): the engine
				    never reads it more than the program does;
				    otherwise it is RAM-backed (memfd, shm,
				    kernel rings, files) */
};

/*
 * A traced mapping has an alias: a second mapping of the same object that
 * keeps the real access.  A page armed only for watchpoints is ordinary
 * private memory that cannot be mapped twice: alias is NULL and the engine
 * reaches its bytes through the emu_ctx peek/poke callbacks instead.
 */
struct region {
	uint64_t start, end; /* program view [start, end) */
	uint64_t base;	     /* start when mapped: offsets count from here,
				   also after the region is trimmed or split */
	uint8_t *alias;	     /* alias of start, or NULL (see above) */
	uint64_t file_offset;
	uint32_t id;
	int prot; /* protection the program believes it has */
	int mmap_flags;
	uint32_t flags;		  /* enum region_flags */
	uint16_t watch_refs;	  /* page watchpoints using this region */
	uint16_t watch_read_refs; /* ... of which watch reads */
};

struct region_table {
	volatile uint32_t seq; /* odd while a writer is inside */
	uint32_t count;
	uint32_t next_id;
	struct region r[REGION_MAX]; /* sorted by start, disjoint */
};

/* signal context: copy out the region containing addr.  0 or -ENOENT. */
int region_find(const struct region_table *t, uint64_t addr, struct region *out);
/* signal context: start of the first region above addr (UINT64_MAX if none) */
uint64_t region_next_start(const struct region_table *t, uint64_t addr);

/* Writers (not signal context): bracket every update. */
void region_write_begin(struct region_table *t);
void region_write_end(struct region_table *t);
/* Assigns r->id if it is 0.  -ENOSPC if full, -EEXIST if overlapping. */
int region_add(struct region_table *t, struct region *r);
/* Remove [start,end) from the table, splitting regions as needed; the
 * removed pieces are reported through cb (alias-adjusted) before removal. */
int region_cut(struct region_table *t, uint64_t start, uint64_t end,
	       void (*cb)(void *arg, const struct region *piece), void *arg);
/* Writers: the region containing addr, to change in place (flags and
 * watch counts only), or NULL. */
struct region *region_get_mut(struct region_table *t, uint64_t addr);
/* Writers, inside region_write_begin/end (the seqlock readers would wait
 * for the writer forever): the same as region_overlaps. */
int region_overlaps_locked(const struct region_table *t, uint64_t start, uint64_t end,
			   struct region *out, int max);
/* Copy of every region overlapping [start,end), up to max; returns count. */
int region_overlaps(const struct region_table *t, uint64_t start, uint64_t end, struct region *out,
		    int max);

#endif
