/* SPDX-License-Identifier: MIT */
/*
 * Exact-width accesses to the real object.  The device must see the width
 * the program used: 1/2/4/8 bytes are one integer access, 16/32/64 one
 * SSE/AVX/AVX-512 access, and a masked vector access touches only the bytes
 * in bytemask (AVX-512 fault suppression).  Other widths (x87 m80, ...) are
 * split into the largest power-of-two pieces.  signal context.
 */
#ifndef MMS_ENGINE_COPY_H
#define MMS_ENGINE_COPY_H

#include <stdbool.h>
#include <stdint.h>

/* bytemask: 0 = every byte; else bit i selects byte i (width <= 64). */
void copy_in(void *dst, const volatile void *dev, unsigned width, uint64_t bytemask, bool nt);
void copy_out(volatile void *dev, const void *src, unsigned width, uint64_t bytemask, bool nt);

/* One load or store of exactly w bytes (1, 2, 4, else 8) at p, as the
 * instruction makes it: inline, general registers only (the hot sites'
 * fast path uses them). */
static inline uint64_t copy_load_once(const volatile void *p, unsigned w)
{
	switch (w) {
	case 1:
		return *(const volatile uint8_t *)p;
	case 2:
		return *(const volatile uint16_t *)p;
	case 4:
		return *(const volatile uint32_t *)p;
	default:
		return *(const volatile uint64_t *)p;
	}
}

static inline void copy_store_once(volatile void *p, unsigned w, uint64_t v)
{
	switch (w) {
	case 1:
		*(volatile uint8_t *)p = (uint8_t)v;
		return;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v;
		return;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)v;
		return;
	default:
		*(volatile uint64_t *)p = v;
	}
}

#endif
