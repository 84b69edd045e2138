/* SPDX-License-Identifier: MIT */
/*
 * The shadow register file of one traced region: the last value read or
 * written at each byte, which bytes were ever seen, and the record that
 * last touched each naturally aligned 8-byte word.  The agent's fault
 * path keeps one per device region (agent/shadow.c) for the debugger and
 * the core dumper, which must not read a device to learn its registers;
 * replaying a trace through the same functions rebuilds it at any record.
 *
 * What counts as seen: a read or a write whose value the instruction
 * revealed, byte by byte (a masked access only its enabled bytes).  A
 * write of an unknown value (a device LOCK RMW) makes its bytes unknown
 * again; a read of an unknown value teaches nothing.  An access that
 * reaches past len is kept for the bytes inside.
 *
 * Signal-safe, no allocation: the caller owns the memory.  Writers may
 * race (two threads of the program); each byte's value and its known bit
 * are stored separately, so a reader that runs while the program runs
 * may see one without the other.  Readers that matter (the debugger, the
 * dumper) run with every thread parked.
 */
#ifndef MMS_TRACE_SHADOW_H
#define MMS_TRACE_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#include "mmscope/trace-format.h"

struct shadow {
	uint64_t len;	/* bytes covered, offsets from the region's base */
	uint8_t *value; /* len bytes */
	uint8_t *known; /* bit i % 8 of known[i / 8]: byte i was seen */
	uint64_t *seq;	/* per 8-byte word: the last record's seq, 0 none */
};

/* The bytes shadow_init wants for len bytes of region. */
size_t shadow_size(uint64_t len);
/* Lay out a shadow over mem (shadow_size(len) zeroed bytes). */
void shadow_init(struct shadow *s, void *mem, uint64_t len);

/* One access (one element of a string run): width bytes at offset, dir
 * enum mms_dir, flags enum mms_access_flags, mask the MMS_AF_MASKED
 * bytes, value width bytes or NULL (unknown); seq the record it is in. */
void shadow_apply(struct shadow *s, uint64_t offset, unsigned width, int dir, unsigned flags,
		  uint64_t mask, const uint8_t *value, uint64_t seq);
/* A whole v3 ACCESS record (a repeat, a string run, a masked access). */
void shadow_apply_record(struct shadow *s, const struct mms_rec_access *r);

/* How many bytes from offset on are known, at most len. */
size_t shadow_known_run(const struct shadow *s, uint64_t offset, size_t len);
/* Is byte offset known? */
int shadow_known(const struct shadow *s, uint64_t offset);

#endif
