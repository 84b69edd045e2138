/* SPDX-License-Identifier: MIT */
/*
 * The shadow register file of every traced device region (the logic is
 * trace/shadow.h): kept by the fault path, read by the debugger instead
 * of the device, written by the core dumper.  Built when a device region
 * is armed, dropped when its last piece goes.  At most SHADOW_MAX device
 * regions have one at a time (the rest are traced without: the debugger
 * then cannot read them without --device-reads=live, and agent.log says
 * so once).
 */
#ifndef MMS_AGENT_SHADOW_H
#define MMS_AGENT_SHADOW_H

#include <stdint.h>

#include "engine/emulate.h"
#include "engine/region.h"
#include "trace/shadow.h"

#define SHADOW_MAX 64

/* Table lock held: r (registered, id and base set) is a device region. */
void shadow_track(const struct region *r);
/* Table lock held: drop the shadows of regions no longer in t. */
void shadow_prune(const struct region_table *t);
/* signal context: an access the trace records, in record seq (0: the
 * record was lost) */
void shadow_note(const struct emu_access *a, uint64_t seq);
/* The shadow of region id, NULL if it has none. */
const struct shadow *shadow_of(uint32_t id);

#endif
