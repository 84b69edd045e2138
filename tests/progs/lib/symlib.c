/* SPDX-License-Identifier: MIT */
/*
 * libsymlib.so: the library tests/progs/symbols.c loads.  symlib_poke()
 * is exported, so a stripped copy still names it in .dynsym; symlib_local()
 * is static, so a stripped copy names it nowhere.
 */
#include <stdint.h>

void symlib_poke(volatile uint32_t *reg, uint32_t v);
void *symlib_poke_via_local(volatile uint32_t *reg, volatile uint64_t *watched, uint32_t v);

void symlib_poke(volatile uint32_t *reg, uint32_t v)
{
	reg[2] = v;
}

/* noipa: stays one function under its own name, called, not inlined */
static __attribute__((noipa)) void symlib_local(volatile uint32_t *reg, volatile uint64_t *watched,
						uint32_t v)
{
	reg[3] = v;
	*watched = v;
}

/* returns symlib_local's address: the program prints it as ground truth */
void *symlib_poke_via_local(volatile uint32_t *reg, volatile uint64_t *watched, uint32_t v)
{
	symlib_local(reg, watched, v);
	return (void *)symlib_local;
}
