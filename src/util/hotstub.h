/* SPDX-License-Identifier: MIT */
/*
 * The layout of a hot site's stub (src/agent/hot.c builds it, hot-run.c
 * reads a thread's place in it, src/cli/attach.c recognises it): one
 * HOTSTUB_SLOT-byte slot per site in memory the agent maps near the
 * program's text.
 *
 *   0   lea -136(%rsp),%rsp     past the program's red zone
 *   8   push $index             the site
 *   13  jmp *40(%rip-relative)  into mms_hot_common (the agent)
 *   19  the original instruction, then jmp back to the site's successor
 *   40  the address of mms_hot_common
 *   64  the engine's re-encoding of the instruction (run by the agent)
 *
 * Until the jump at 13, and in the copy at 19, a thread holds nothing of
 * mmscope's: it stands where the program's own code would.
 */
#ifndef MMS_UTIL_HOTSTUB_H
#define MMS_UTIL_HOTSTUB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define HOTSTUB_SLOT 128
#define HOTSTUB_PUSH 8
#define HOTSTUB_JMP 13
#define HOTSTUB_COPY 19
#define HOTSTUB_TARGET 40
#define HOTSTUB_XCODE 64
#define HOTSTUB_RED_ZONE 136 /* the lea's */

static const uint8_t hotstub_lea[HOTSTUB_PUSH] = { 0x48, 0x8d, 0xa4, 0x24, 0x78, 0xff, 0xff, 0xff };

/* Do the first HOTSTUB_COPY bytes of a slot look like a stub's? */
static inline bool hotstub_is(const uint8_t *slot)
{
	return !memcmp(slot, hotstub_lea, HOTSTUB_PUSH) && slot[HOTSTUB_PUSH] == 0x68 &&
	       slot[HOTSTUB_JMP] == 0xff && slot[HOTSTUB_JMP + 1] == 0x25;
}

/* Is offset off of a slot a place where the thread holds nothing? */
static inline bool hotstub_plain(unsigned off)
{
	return off == 0 || off == HOTSTUB_PUSH || off == HOTSTUB_JMP ||
	       (off >= HOTSTUB_COPY && off < HOTSTUB_TARGET);
}

#endif
