/*
 * Shared by the engine's unit tests: a fake traced region and a native
 * twin to run the same instruction on the bare CPU.
 *
 *   view  three pages: [0] the traced region's program view (PROT_NONE,
 *         as when armed), [1] untraced read-write memory, [2] untraced
 *         PROT_NONE memory the program may not touch
 *   alias the traced page's real backing
 *   nat   three pages laid out like view, all plain memory except [2]
 *         (PROT_NONE): the ground truth runs here
 *
 * run() decodes and completes an instruction with the engine;
 * native_run() executes the same bytes on the CPU through xol_run, with
 * the same registers, flags and XSAVE image.  Each test file includes this
 * once.
 */
#ifndef MMS_TEST_EMU_FIXTURE_H
#define MMS_TEST_EMU_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "engine/emulate.h"
#include "engine/icache.h"
#include "engine/xol.h"
#include "engine/xstate.h"
#include "mmscope/trace-format.h"

#define PAGE 4096
#define XSAVE_MAX 16384

static struct region_table table;
static uint8_t *view, *alias, *nat;
static uint8_t *code, *xol, *scratch;
static struct emu_ctx last_ctx;

struct rec {
	uint64_t addr, offset, mask;
	int width, dir, flags;
	uint32_t run_left;
	uint8_t value[64];
	int known;
};
static struct rec recs[256];
static int nrecs;

static inline void on_record(void *arg, const struct insn *in, const struct cpu *c,
			     const struct emu_access *a)
{
	struct rec *r = &recs[nrecs++];

	assert_true(nrecs < (int)(sizeof(recs) / sizeof(recs[0])));
	r->addr = a->addr;
	r->offset = a->offset;
	r->width = a->width;
	r->dir = a->dir;
	r->flags = a->flags;
	r->mask = a->mask;
	r->run_left = a->run_left;
	r->known = a->value != NULL;
	if (a->value)
		memcpy(r->value, a->value, a->width);
}

static inline uint64_t rec_u64(const struct rec *r)
{
	uint64_t v = 0;
	memcpy(&v, r->value, r->width > 8 ? 8 : r->width);
	return v;
}

static inline void *map_rw(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static inline int fixture_setup(void **state)
{
	view = map_rw(3 * PAGE, PROT_READ | PROT_WRITE);
	nat = map_rw(3 * PAGE, PROT_READ | PROT_WRITE);
	alias = map_rw(PAGE, PROT_READ | PROT_WRITE);
	code = map_rw(PAGE, PROT_READ | PROT_WRITE);
	xol = map_rw(2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	scratch = map_rw(PAGE, PROT_READ | PROT_WRITE);
	/* the program view of the traced page is inaccessible, as when armed */
	mprotect(view, PAGE, PROT_NONE);
	mprotect(view + 2 * PAGE, PAGE, PROT_NONE);
	mprotect(nat + 2 * PAGE, PAGE, PROT_NONE);
	memset(&table, 0, sizeof(table));
	struct region r = { .start = (uint64_t)view,
			    .end = (uint64_t)view + PAGE,
			    .alias = alias,
			    .prot = PROT_READ | PROT_WRITE,
			    .flags = REGION_TRACE };
	assert_int_equal(region_add(&table, &r), 0);
	emu_init();
	return 0;
}

static inline int reset(void **state)
{
	memset(alias, 0, PAGE);
	memset(view + PAGE, 0, PAGE);
	memset(nat, 0, 2 * PAGE);
	nrecs = 0;
	table.r[0].prot = PROT_READ | PROT_WRITE;
	table.r[0].flags = REGION_TRACE;
	return 0;
}

static inline enum emu_result run(const char *bytes, size_t n, struct cpu *c)
{
	struct emu_ctx e = {
		.regions = &table, .scratch = scratch, .code = xol, .record = on_record
	};
	struct insn in;
	enum emu_result r;

	memcpy(code, bytes, n);
	c->rip = (uint64_t)code;
	assert_int_equal(insn_decode(&in, code, 15), 0);
	r = emu_complete(&e, &in, c);
	last_ctx = e;
	return r;
}

/* The bytes on the CPU: registers, flags and (if c->xsave) the vector
 * state in and out, RIP untouched.  The code runs from the second page of
 * xol, away from the engine's code slot. */
static inline void native_run(const char *bytes, size_t n, struct cpu *c)
{
	uint8_t *at = xol + PAGE;
	struct xol_frame f;

	memcpy(at, bytes, n);
	at[n] = 0xc3; /* ret */
	memcpy(f.gpr, c->gpr, sizeof(f.gpr));
	f.rflags = c->rflags;
	f.code = at;
	f.xsave = c->xsave;
	f.xmask = c->xfeatures & 0xe7;
	xol_run(&f);
	memcpy(c->gpr, f.gpr, sizeof(f.gpr));
	c->rflags = f.rflags;
}

/* ---- XSAVE images ------------------------------------------------------- */

static inline uint64_t host_xcr0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32 | lo) & 0xe7;
}

static inline int host_has_avx512(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	       (host_xcr0() & 0xe0) == 0xe0;
}

static inline int host_has_avx2(void)
{
	return __builtin_cpu_supports("avx2") && (host_xcr0() & 6) == 6;
}

/* A valid image with every register in its init state. */
static inline void image_init(struct cpu *c, uint8_t *img)
{
	uint32_t mxcsr = 0x1f80;

	memset(img, 0, XSAVE_MAX);
	memcpy(img + 24, &mxcsr, 4); /* FXSAVE layout: MXCSR */
	c->xsave = img;
	c->xfeatures = host_xcr0();
}

#endif
