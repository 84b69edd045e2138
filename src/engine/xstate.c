/* SPDX-License-Identifier: MIT */
/* Vector and opmask registers in the XSAVE image (see xstate.h). */
#include <cpuid.h>
#include <string.h>

#include "engine/xstate.h"

#define XSTATE_BV_OFFSET 512 /* the XSAVE header, SDM vol. 1, 13.4.2 */
#define XSTATE_COMPONENTS 8

/* Offset and size of each component in the standard format; the legacy
 * region's XMM0-15 (FXSAVE layout, SDM vol. 1, 10.5.1) stand for
 * component 1. */
static uint32_t comp_off[XSTATE_COMPONENTS] = { [1] = 160 };
static uint32_t comp_size[XSTATE_COMPONENTS] = { [1] = 256 };

void xstate_init(void)
{
	unsigned a, b, c, d;

	for (unsigned i = 2; i < XSTATE_COMPONENTS; i++)
		if (__get_cpuid_count(0xd, i, &a, &b, &c, &d) && a) {
			comp_size[i] = a;
			comp_off[i] = b;
		}
}

static uint64_t image_bv(const struct cpu *c)
{
	uint64_t bv;

	memcpy(&bv, (const uint8_t *)c->xsave + XSTATE_BV_OFFSET, 8);
	return bv;
}

/* signal context */
bool xstate_has(const struct cpu *c, uint64_t features)
{
	if (!c->xsave || (c->xfeatures & features) != features)
		return false;
	for (unsigned i = 0; i < XSTATE_COMPONENTS; i++)
		if ((features & (1ull << i)) && !comp_size[i])
			return false;
	return true;
}

static bool comp_valid(const struct cpu *c, unsigned comp)
{
	return c->xsave && (c->xfeatures & (1ull << comp)) && comp_size[comp];
}

static void chunk_read(const struct cpu *c, unsigned comp, unsigned at, uint8_t *dst, unsigned len)
{
	if (comp_valid(c, comp) && (image_bv(c) & (1ull << comp)))
		memcpy(dst, (const uint8_t *)c->xsave + comp_off[comp] + at, len);
	else
		memset(dst, 0, len);
}

static bool all_zero(const uint8_t *p, unsigned len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static void chunk_write(struct cpu *c, unsigned comp, unsigned at, const uint8_t *src, unsigned len)
{
	uint8_t *img = c->xsave;
	uint64_t bv;

	if (!comp_valid(c, comp))
		return;
	bv = image_bv(c);
	if (!(bv & (1ull << comp))) {
		if (all_zero(src, len))
			return; /* zero is the init state: leave it so */
		/* the image's bytes are stale while the bit is clear */
		memset(img + comp_off[comp], 0, comp_size[comp]);
		bv |= 1ull << comp;
		memcpy(img + XSTATE_BV_OFFSET, &bv, 8);
	}
	memcpy(img + comp_off[comp] + at, src, len);
}

/* signal context */
void xstate_vec_read(const struct cpu *c, int reg, uint8_t v[64])
{
	if (reg >= 16) {
		chunk_read(c, 7, 64 * (reg - 16), v, 64);
		return;
	}
	chunk_read(c, 1, 16 * reg, v, 16);
	chunk_read(c, 2, 16 * reg, v + 16, 16);
	chunk_read(c, 6, 32 * reg, v + 32, 32);
}

/* signal context */
void xstate_vec_write(struct cpu *c, int reg, const uint8_t v[64])
{
	if (reg >= 16) {
		chunk_write(c, 7, 64 * (reg - 16), v, 64);
		return;
	}
	chunk_write(c, 1, 16 * reg, v, 16);
	chunk_write(c, 2, 16 * reg, v + 16, 16);
	chunk_write(c, 6, 32 * reg, v + 32, 32);
}

/* signal context */
uint64_t xstate_k_read(const struct cpu *c, int k)
{
	uint64_t v;

	chunk_read(c, 5, 8 * k, (uint8_t *)&v, 8);
	return v;
}

/* signal context */
void xstate_k_write(struct cpu *c, int k, uint64_t v)
{
	chunk_write(c, 5, 8 * k, (const uint8_t *)&v, 8);
}
