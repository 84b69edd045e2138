/* SPDX-License-Identifier: MIT */
/*
 * The program's vector and opmask registers in the XSAVE image of a
 * struct cpu (standard format, Intel SDM vol. 1, 13.4-13.6): XMM in the
 * legacy region, YMM's upper halves in component 2, opmask in 5, ZMM0-15's
 * upper halves in 6, ZMM16-31 in 7.  A component whose XSTATE_BV bit is
 * clear is in its init state (zero) whatever the image holds; writing one
 * fills it with zeros first, then sets the bit.  Bytes of a component the
 * image lacks (c->xfeatures) read as zero and are not written.
 * signal context.
 */
#ifndef MMS_ENGINE_XSTATE_H
#define MMS_ENGINE_XSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cpu.h"

#define XSTATE_SSE (1u << 1)
#define XSTATE_AVX (1u << 2)
#define XSTATE_OPMASK (1u << 5)
#define XSTATE_ZMM_HI256 (1u << 6)
#define XSTATE_HI16_ZMM (1u << 7)
#define XSTATE_AVX512 (XSTATE_OPMASK | XSTATE_ZMM_HI256 | XSTATE_HI16_ZMM)

/* Component offsets from CPUID.(EAX=0DH, ECX=i).EBX; not signal context. */
void xstate_init(void);
/* Does the image hold every component in features? */
bool xstate_has(const struct cpu *c, uint64_t features);

/* Vector register reg (0..31) as 64 bytes, ZMM layout. */
void xstate_vec_read(const struct cpu *c, int reg, uint8_t v[64]);
void xstate_vec_write(struct cpu *c, int reg, const uint8_t v[64]);

/* Opmask register k (0..7). */
uint64_t xstate_k_read(const struct cpu *c, int k);
void xstate_k_write(struct cpu *c, int k, uint64_t v);

#endif
