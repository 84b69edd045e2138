/* SPDX-License-Identifier: MIT */
/*
 * Watchpoints: what is watched and by which mechanism, and the pure
 * decisions about them (does an access hit one, can one debug register do
 * it, which pages does it need).  The agent arms and disarms the real
 * mechanisms; the arbiter (arbiter.h) decides who holds a debug register.
 */
#ifndef MMS_ENGINE_WATCH_H
#define MMS_ENGINE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/arbiter.h"

#define WATCH_PAGE 4096ull

struct watch {
	uint32_t id;
	uint8_t type;	/* enum mms_watch_type */
	uint8_t mech;	/* enum mms_watch_mech: what is armed now */
	bool old_known; /* shadow holds the watched bytes' value */
	bool pages_armed;
	bool hw_armed;
	uint64_t addr, len;
	uint8_t *shadow; /* len bytes: the value last seen */
	const char *expr;
	struct arb_req req; /* its claim on a debug register */
	int *hw_fd;	    /* one inherited perf event per thread */
	int n_hw_fd;
};

/* Does an access of direction dir (MMS_DIR_*) to [addr, addr+len) hit w?
 * If so, the overlap is [*lo, *hi).  signal context */
bool watch_hits(const struct watch *w, uint64_t addr, uint64_t len, int dir, uint64_t *lo,
		uint64_t *hi);

/* Can one x86 debug register watch exactly w's bytes (write or read/write,
 * length 1, 2, 4 or 8 aligned to itself, Intel SDM 17.2.5)?  lens is the
 * bit mask of lengths the probe found working (bit i: 1 << i). */
bool watch_hw_capable(const struct watch *w, unsigned lens);

/* The pages w needs armed: [*first, *end), page aligned. */
void watch_pages(const struct watch *w, uint64_t *first, uint64_t *end);

/* Page watchpoints need to see reads on their pages (a write-only watch
 * leaves its pages readable). */
bool watch_needs_reads(const struct watch *w);

#endif
