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

#endif
