/* SPDX-License-Identifier: MIT */
/*
 * What hot.c asks of the stub memory (hot-chunks.c).  A slot is named by
 * its address; 0 is none.  Called with the patch lock held (one patcher
 * at a time), except hot_stub_site() and hot_is_stubs() (hot.h), which
 * any thread may call in signal context.
 */
#ifndef MMS_AGENT_HOT_INTERNAL_H
#define MMS_AGENT_HOT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* can a jmp rel32 at from reach to (with a chunk's length to spare)? */
bool hot_reach(uint64_t from, uint64_t to);
/* a free slot a 5-byte jump at pc reaches, in a chunk mapped now if need be */
uint64_t hot_slot_near(uint64_t pc);
/* A free slot for a punned jump at pc, an instruction of len < 5 bytes
 * (E9Patch's "punning", PLDI 2020): e9 and the instruction's other
 * len-1 bytes are ours, the rest of the rel32 are next, the 5-len bytes
 * of the instructions after it, which stay as they are. */
uint64_t hot_slot_punned(uint64_t pc, unsigned len, const uint8_t *next);
/* slot is site index's from now on */
void hot_slot_take(uint64_t slot, uint32_t index);

#endif
