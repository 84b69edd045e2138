/* SPDX-License-Identifier: MIT */
/* Per-thread decoded-instruction cache (see icache.h). */
#include <string.h>

#include "engine/icache.h"

void icache_init(struct icache *c, uint8_t *code)
{
	for (int i = 0; i < ICACHE_ENTRIES; i++)
		c->e[i].xcode = code + i * EMU_CODE_SIZE;
}

/* signal context */
struct icache_entry *icache_get(struct icache *c, uint64_t pc, const uint8_t *code, size_t avail)
{
	struct icache_entry *e = &c->e[(pc ^ (pc >> 6)) % ICACHE_ENTRIES];

	if (e->pc == pc && e->in.len && e->in.len <= avail && !memcmp(e->in.bytes, code, e->in.len))
		return e;
	e->pc = 0;
	e->code_len = 0;
	if (insn_decode(&e->in, code, avail) < 0)
		return NULL;
	e->pc = pc;
	return e;
}
