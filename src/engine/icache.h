/* SPDX-License-Identifier: MIT */
/*
 * A per-thread cache of decoded and re-encoded instructions, keyed by pc
 * and checked against the bytes at pc on every use (code may change under
 * a JIT).  A driver faults on the same few instructions again and again;
 * decoding and re-encoding them each time would double the fault cost.
 * signal context; one cache per thread, no locks.
 */
#ifndef MMS_ENGINE_ICACHE_H
#define MMS_ENGINE_ICACHE_H

#include <stdint.h>

#include "engine/emulate.h"
#include "engine/insn.h"

#define ICACHE_ENTRIES 64

struct icache_entry {
	uint64_t pc;
	struct insn in;
	int8_t tmp, sub;  /* registers chosen by the re-encoding */
	uint8_t code_len; /* 0 until re-encoded into xcode */
	uint8_t *xcode;	  /* this entry's own EMU_CODE_SIZE executable
				   slot: a hit runs the code without writing
				   it again (no self-modifying-code stall) */
};

struct icache {
	struct icache_entry e[ICACHE_ENTRIES];
};

/* Give each entry its slot in code (ICACHE_ENTRIES * EMU_CODE_SIZE bytes,
 * writable and executable). */
void icache_init(struct icache *c, uint8_t *code);

/* The decoded instruction at pc, whose bytes are at code (pc itself, or a
 * copy with the bytes the program wrote where mmscope patched its text),
 * decoding on a miss; NULL if the bytes do not decode.  avail: readable
 * bytes at code (at most 15 are used). */
struct icache_entry *icache_get(struct icache *c, uint64_t pc, const uint8_t *code, size_t avail);

#endif
